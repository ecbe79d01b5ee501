import type { Call } from "@sori/sdk";
import { type ReactNode, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { UserAvatar } from "../components/avatar.tsx";
import { IconButton } from "../components/icon-button.tsx";
import { Icon } from "../components/icon.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useProfile } from "../hooks/use-profile.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import { formatDuration } from "./call-history-label.ts";
import type { CallView } from "./call-store.ts";
import { playRingTone } from "./ring-tone.ts";
import { useCallView } from "./use-call-view.ts";

/**
 * Everything on screen about the call of this device: the incoming-call prompt while it rings here,
 * the call screen otherwise. Loaded on demand (the first call), so the first page load stays small.
 */
export function CallLayer(): ReactNode {
  const view = useCallView();
  if (!view) return null;
  return view.state === "ringing-in" ? <IncomingCall view={view} /> : <CallScreen view={view} />;
}

/** The other person's display name (profile name, else username). */
function usePeerName(call: Call): string {
  const profile = useProfile(call.peer.userId);
  return profile.displayName ?? call.peer.username;
}

function useRing(kind: "incoming" | "ringback", on: boolean): void {
  useEffect(() => (on ? playRingTone(kind) : undefined), [kind, on]);
}

function IncomingCall({ view }: { view: CallView }): ReactNode {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const name = usePeerName(view.call);
  const answerRef = useRef<HTMLButtonElement>(null);
  useRing("incoming", true);
  useEffect(() => answerRef.current?.focus(), []);
  const video = view.media === "video";

  return (
    <div className="call-overlay">
      <div
        className="incoming-call"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="incoming-call-title"
        aria-describedby="incoming-call-name"
        data-testid="incoming-call"
        data-media={view.media}
      >
        <UserAvatar userId={view.call.peer.userId} username={view.call.peer.username} size={88} />
        <p id="incoming-call-title" className="incoming-call-kind">
          {t(video ? "call.incomingVideo" : "call.incomingVoice")}
        </p>
        <h2 id="incoming-call-name" data-testid="incoming-call-name">
          {name}
        </h2>
        <div className="call-controls">
          <button
            type="button"
            className="call-round decline"
            data-testid="call-decline"
            onClick={() => void calls.act((c) => c.decline())}
          >
            <Icon name="hangup" size={28} />
            <span>{t("call.decline")}</span>
          </button>
          <button
            ref={answerRef}
            type="button"
            className="call-round accept"
            data-testid="call-answer"
            onClick={() => void calls.act((c) => c.accept({ video: false }))}
          >
            <Icon name="phone" size={28} />
            <span>{t("call.answer")}</span>
          </button>
          <button
            type="button"
            className="call-round accept"
            data-testid="call-answer-video"
            onClick={() => void calls.act((c) => c.accept({ video: true }))}
          >
            <Icon name="video" size={28} />
            <span>{t("call.answerVideo")}</span>
          </button>
        </div>
      </div>
    </div>
  );
}

/** Seconds since `from`, ticking once a second. */
function useElapsed(from: number | null, running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return from === null ? 0 : Math.max(0, Math.floor((now - from) / 1000));
}

/** Plays the remote side's tracks (the receivers exist from the start; they carry media once connected). */
function useRemoteStream(view: CallView): MediaStream | null {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const transceivers = view.call.transceivers;
  useEffect(() => {
    if (!transceivers || stream) return;
    const tracks = [transceivers.audio, transceivers.video]
      .map((t) => (t as unknown as RTCRtpTransceiver).receiver?.track)
      .filter((t): t is MediaStreamTrack => Boolean(t));
    setStream(new MediaStream(tracks));
  }, [transceivers, stream]);
  return stream;
}

function MediaElement({
  kind,
  stream,
  muted,
  label,
  className,
  testId,
}: {
  kind: "audio" | "video";
  stream: MediaStream | null;
  muted?: boolean;
  label?: string;
  className?: string;
  testId?: string;
}): ReactNode {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = stream;
    // Autoplay may be refused before any click on the page; the call still works, and the next
    // play attempt (a re-render with a new stream) tries again.
    if (stream) el.play().catch(() => undefined);
  }, [stream]);
  if (kind === "audio") return <audio ref={ref} autoPlay />;
  return (
    <video
      ref={ref}
      className={className}
      autoPlay
      playsInline
      muted={muted}
      aria-label={label}
      data-testid={testId}
    />
  );
}

function CallScreen({ view }: { view: CallView }): ReactNode {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const { showToast } = useToast();
  const { call, state } = view;
  const name = usePeerName(call);
  const remote = useRemoteStream(view);
  const local = useSyncExternalStore(calls.platform.subscribe, calls.platform.getLocal);
  const [localVideo, setLocalVideo] = useState<MediaStream | null>(null);
  useEffect(() => {
    setLocalVideo(local.video ? new MediaStream([local.video]) : null);
  }, [local.video]);
  const [devicesOpen, setDevicesOpen] = useState(false);
  const live = state === "connected" || state === "reconnecting";
  const elapsed = useElapsed(view.connectedAt, live);
  const ended = state === "ended";
  const hangupRef = useRef<HTMLButtonElement>(null);
  useRing("ringback", state === "ringing-out");
  useEffect(() => hangupRef.current?.focus(), []);

  const showRemoteVideo = view.remoteMedia.video && !ended;
  let status: string;
  switch (state) {
    case "ringing-out":
      status = t("call.calling");
      break;
    case "connecting":
    case "ringing-in":
      status = t("call.connecting");
      break;
    case "reconnecting":
      status = t("call.reconnecting");
      break;
    case "connected":
      status = formatDuration(elapsed);
      break;
    case "ended":
      status = view.endReason ? t(`call.ended.${view.endReason}`, { name }) : t("call.ended.hangup");
      break;
  }

  const toggleCamera = (): void => {
    void calls.act((c) => c.setCamera(!c.cameraOn)).catch(() => showToast(t("call.cameraFailed")));
  };

  return (
    <div className="call-overlay">
      <section
        className={`call-screen${showRemoteVideo ? " with-video" : ""}`}
        aria-label={t("call.screenLabel", { name })}
        data-testid="call-screen"
        data-state={state}
        data-end-reason={view.endReason ?? ""}
        data-media={view.media}
      >
        <MediaElement kind="audio" stream={remote} />
        <div className="call-stage">
          {showRemoteVideo ? (
            <MediaElement
              kind="video"
              stream={remote}
              muted
              className="call-remote-video"
              label={t("call.remoteView", { name })}
              testId="call-remote-video"
            />
          ) : (
            <div className="call-peer">
              <UserAvatar userId={call.peer.userId} username={call.peer.username} size={112} />
            </div>
          )}
          {localVideo && !ended && (
            <MediaElement
              kind="video"
              stream={localVideo}
              muted
              className="call-self-video"
              label={t("call.selfView")}
              testId="call-self-video"
            />
          )}
        </div>
        <header className="call-info">
          <h2 data-testid="call-peer-name">{name}</h2>
          <p className="call-status" role="status" aria-live="polite" data-testid="call-status">
            {state === "connected" ? (
              <span aria-label={t("call.timer", { time: status })}>{status}</span>
            ) : (
              status
            )}
          </p>
          {live && <QualityIndicator quality={view.quality} />}
          {live && !view.remoteMedia.audio && (
            <p className="call-remote-muted">
              <Icon name="micOff" size={16} /> {t("call.remoteMuted", { name })}
            </p>
          )}
        </header>
        {devicesOpen && !ended && <DevicePicker call={call} onClose={() => setDevicesOpen(false)} />}
        <div className="call-controls" role="group" aria-label={t("call.screenLabel", { name })}>
          {ended ? (
            <IconButton
              icon="close"
              label={t("call.close")}
              className="call-round"
              data-testid="call-close"
              onClick={() => calls.dismiss()}
            />
          ) : (
            <>
              <IconButton
                icon={view.muted ? "micOff" : "mic"}
                label={t(view.muted ? "call.unmute" : "call.mute")}
                className={`call-round${view.muted ? " off" : ""}`}
                aria-pressed={view.muted}
                data-testid="call-mute"
                disabled={state === "ringing-out"}
                onClick={() => void calls.act((c) => c.setMuted(!c.muted))}
              />
              <IconButton
                icon={view.cameraOn ? "video" : "videoOff"}
                label={t(view.cameraOn ? "call.cameraOff" : "call.cameraOn")}
                className={`call-round${view.cameraOn ? "" : " off"}`}
                aria-pressed={view.cameraOn}
                data-testid="call-camera"
                disabled={state === "ringing-out"}
                onClick={toggleCamera}
              />
              <IconButton
                icon="sliders"
                label={t("call.devices")}
                className="call-round"
                aria-expanded={devicesOpen}
                data-testid="call-devices"
                onClick={() => setDevicesOpen((o) => !o)}
              />
              <button
                ref={hangupRef}
                type="button"
                className="icon-button call-round decline"
                aria-label={t(state === "ringing-out" ? "call.cancel" : "call.hangup")}
                title={t(state === "ringing-out" ? "call.cancel" : "call.hangup")}
                data-testid="call-hangup"
                onClick={() => void calls.act((c) => c.hangup())}
              >
                <Icon name="hangup" size={28} />
              </button>
            </>
          )}
        </div>
      </section>
    </div>
  );
}

function QualityIndicator({ quality }: { quality: CallView["quality"] }): ReactNode {
  const { t } = useI18n();
  const bars = quality === "good" ? 3 : quality === "fair" ? 2 : quality === "poor" ? 1 : 0;
  return (
    <span
      className={`call-quality quality-${quality}`}
      role="img"
      aria-label={t(`call.quality.${quality}`)}
      title={t(`call.quality.${quality}`)}
      data-testid="call-quality"
      data-quality={quality}
    >
      {[1, 2, 3].map((n) => (
        <span key={n} className={n <= bars ? "bar on" : "bar"} style={{ height: `${4 + n * 4}px` }} />
      ))}
    </span>
  );
}

/** Microphone and camera selectors (labels are known once the browser granted access). */
function DevicePicker({ call, onClose }: { call: Call; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const { showToast } = useToast();
  const local = useSyncExternalStore(calls.platform.subscribe, calls.platform.getLocal);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    let cancelled = false;
    const load = (): void => {
      navigator.mediaDevices
        .enumerateDevices()
        .then((d) => !cancelled && setDevices(d))
        .catch(() => undefined);
    };
    load();
    navigator.mediaDevices.addEventListener("devicechange", load);
    return () => {
      cancelled = true;
      navigator.mediaDevices.removeEventListener("devicechange", load);
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
