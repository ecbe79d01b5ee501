import { type ReactNode, useCallback, useEffect, useState } from "react";
import { Icon } from "../components/icon.tsx";
import { LinkDeviceDialog } from "../components/link-device-dialog.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatDateTime } from "../lib/format-time.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./settings-section.css";

type Device = {
  deviceId: string;
  name: string;
  createdAt: number;
  lastSeenAt: number | null;
  current: boolean;
};

/** Every device signed in to this account, with a way to sign the others out. */
export function DevicesSection(): ReactNode {
  const { t, language } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [linking, setLinking] = useState(false);

  const load = useCallback(async (): Promise<void> => {
    try {
      const list = await client.devices();
      // This device first, then the most recently added.
      setDevices(
        [...list.devices].sort((a, b) => Number(b.current) - Number(a.current) || b.createdAt - a.createdAt),
      );
      setFailed(false);
    } catch {
      setFailed(true);
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (deviceId: string): Promise<void> => {
    try {
      await client.revokeDevice(deviceId);
      setConfirming(null);
      await load();
    } catch (err) {
      showToast(t(errorMessageKey(err)));
    }
  };

  return (
    <section className="settings-section" data-testid="devices">
      <h3>{t("devices.title")}</h3>
      <button type="button" className="button" data-testid="link-device" onClick={() => setLinking(true)}>
        <Icon name="plus" size={18} />
        {t("link.add")}
      </button>
      {linking && <LinkDeviceDialog onClose={() => setLinking(false)} onLinked={() => void load()} />}
      {failed && (
        <p className="muted">
          {t("devices.loadFailed")}{" "}
          <button type="button" className="link-button" onClick={() => void load()}>
            {t("common.retry")}
          </button>
        </p>
      )}
      {!devices && !failed && <p className="muted">{t("common.loading")}</p>}
      {devices && (
        <ul className="device-list">
          {devices.map((d) => (
            <li key={d.deviceId} className="device-row" data-testid="device" data-current={d.current}>
              <span className="device-names">
                <span className="member-name">
                  {d.name}
                  {d.current && <span className="tag">{t("devices.current")}</span>}
                </span>
                <span className="muted small-text">
                  {t("devices.added", { when: formatDateTime(d.createdAt, language) })}
                  {d.lastSeenAt !== null && !d.current
                    ? ` · ${t("devices.lastSeen", { when: formatDateTime(d.lastSeenAt, language) })}`
                    : ""}
                </span>
              </span>
              {!d.current &&
                (confirming === d.deviceId ? (
                  <span className="member-actions">
                    <button type="button" className="button small" onClick={() => setConfirming(null)}>
                      {t("common.cancel")}
                    </button>
                    <button
                      type="button"
                      className="button small danger"
                      data-testid="revoke-device-confirm"
                      onClick={() => void revoke(d.deviceId)}
                    >
                      {t("devices.revoke")}
                    </button>
                  </span>
                ) : (
                  <button
                    type="button"
                    className="button small"
                    data-testid="revoke-device"
                    aria-label={t("devices.revokeNamed", { name: d.name })}
                    onClick={() => setConfirming(d.deviceId)}
                  >
                    {t("devices.revoke")}
                  </button>
                ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
