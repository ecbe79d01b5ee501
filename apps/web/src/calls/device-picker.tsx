import type { Call } from "@sori/sdk";
import { type ReactNode, useEffect, useState, useSyncExternalStore } from "react";
import { IconButton } from "../components/icon-button.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import "./device-picker.css";

/** Microphone and camera selectors (labels are known once the browser granted access). */
export function DevicePicker({ call, onClose }: { call: Call; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const { showToast } = useToast();
  const local = useSyncExternalStore(calls.platform.subscribe, calls.platform.getLocal);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    // Missing on plain-http pages: the lists stay empty.
    const media = navigator.mediaDevices as MediaDevices | undefined;
    if (!media) return;
    let cancelled = false;
    const load = (): void => {
      media
        .enumerateDevices()
        .then((d) => !cancelled && setDevices(d))
        .catch(() => undefined);
    };
    load();
    media.addEventListener("devicechange", load);
    return () => {
      cancelled = true;
      media.removeEventListener("devicechange", load);
    };
  }, []);

  const select = (kind: "audio" | "video"): ReactNode => {
    const list = devices.filter((d) => d.kind === (kind === "audio" ? "audioinput" : "videoinput"));
    const current = (kind === "audio" ? local.audio : local.video)?.getSettings().deviceId ?? "";
    const id = `call-device-${kind}`;
    return (
      <div className="call-device">
        <label htmlFor={id}>{t(kind === "audio" ? "call.microphone" : "call.camera")}</label>
        <select
          id={id}
          data-testid={id}
          value={list.some((d) => d.deviceId === current) ? current : ""}
          onChange={(e) => {
            const deviceId = e.target.value;
            void call.switchInput(kind, deviceId).catch(() => showToast(t("call.switchFailed")));
          }}
        >
          {!list.some((d) => d.deviceId === current) && <option value="">—</option>}
          {list.map((d, i) => (
            <option key={d.deviceId || i} value={d.deviceId}>
              {d.label || t("call.deviceFallback", { n: i + 1 })}
            </option>
          ))}
        </select>
      </div>
    );
  };

  return (
    <div
      className="call-devices"
      role="group"
      aria-label={t("call.devices")}
      data-testid="call-device-picker"
    >
      {select("audio")}
      {select("video")}
      <IconButton icon="close" label={t("common.close")} onClick={onClose} />
    </div>
  );
}
