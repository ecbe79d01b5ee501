import { type ReactNode, useCallback, useEffect, useState } from "react";
import { Icon } from "../components/icon.tsx";
import { LinkDeviceDialog } from "../components/link-device-dialog.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useApprovalDecision } from "../hooks/use-approval-decision.tsx";
import { useApprovals } from "../hooks/use-approvals.ts";
import { useClientEvent } from "../hooks/use-client-event.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatDateTime } from "../lib/format-time.ts";
import { useSignedIn } from "../session/client-context.ts";
import { ChangePasswordForm } from "./change-password-form.tsx";
import "./settings-section.css";
import "./devices-section.css";

type Device = {
  deviceId: string;
  name: string;
  createdAt: number;
  lastSeenAt: number | null;
  current: boolean;
  state: "active" | "pending";
};

/**
 * Every device of this account: the active ones (sign the others out), the sign-ins waiting for
 * approval with their code (approve or reject), linking a new device with a code, and changing the
 * password, which signs every other device out.
 */
export function DevicesSection(): ReactNode {
  const { t, language } = useI18n();
  const { client } = useSignedIn();
  const { requests } = useApprovals();
  const { showToast } = useToast();
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const { deciding, decide } = useApprovalDecision();
  const [linking, setLinking] = useState(false);

  const load = useCallback(async (): Promise<void> => {
    try {
      const list = await client.devices();
      // This device first, then the sign-ins waiting, then the most recently added.
      const rank = (d: Device): number => (d.current ? 0 : d.state === "pending" ? 1 : 2);
      setDevices([...list.devices].sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt));
      setFailed(false);
    } catch {
      setFailed(true);
    }
  }, [client]);

  // Loaded again whenever a sign-in appears, is approved or refused (here or elsewhere).
  const waiting = requests.map((r) => r.deviceId).join(",");
  useEffect(() => {
    void load();
  }, [load, waiting]);
  useClientEvent(client, "own-device", () => void load());

  const revoke = async (deviceId: string): Promise<void> => {
    try {
      await client.revokeDevice(deviceId);
      setConfirming(null);
      await load();
    } catch (err) {
      showToast(t(errorMessageKey(err)));
    }
  };

  const row = (d: Device): ReactNode => {
    const request = d.state === "pending" ? requests.find((r) => r.deviceId === d.deviceId) : undefined;
    return (
      <li
        key={d.deviceId}
        className={d.state === "pending" ? "device-row pending" : "device-row"}
        data-testid="device"
        data-current={d.current}
        data-state={d.state}
        data-device-id={d.deviceId}
      >
        <span className="device-names">
          <span className="member-name">
            {d.name}
            {d.current && <span className="tag">{t("devices.current")}</span>}
            {d.state === "pending" && <span className="tag warn">{t("devices.pending")}</span>}
          </span>
          <span className="muted small-text">
            {t("devices.added", { when: formatDateTime(d.createdAt, language) })}
            {d.lastSeenAt !== null && !d.current
              ? ` · ${t("devices.lastSeen", { when: formatDateTime(d.lastSeenAt, language) })}`
              : ""}
          </span>
          {request && (
            <span
              className="device-code"
              data-testid="device-code"
              data-code={request.code.replace(/\s/g, "")}
            >
              {t("devices.pendingHint", { code: request.code })}
            </span>
          )}
        </span>
        {d.state === "pending" ? (
          <span className="member-actions">
            <button
              type="button"
              className="button small danger"
              data-testid="reject-device"
              aria-label={t("devices.rejectNamed", { name: d.name })}
              disabled={deciding !== null || !request}
              onClick={() => request && void decide(request, "reject").then(load)}
            >
              {t("approve.reject")}
            </button>
            {/* Approving needs the code to compare; without it there is nothing to check. */}
            <button
              type="button"
              className="button small primary"
              data-testid="approve-device"
              aria-label={t("devices.approveNamed", { name: d.name })}
              disabled={deciding !== null || !request}
              onClick={() => request && void decide(request, "approve").then(load)}
            >
              {t("approve.approve")}
            </button>
          </span>
        ) : (
          !d.current &&
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
          ))
        )}
      </li>
    );
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
      {devices && <ul className="device-list">{devices.map(row)}</ul>}
      <div className="password-block">
        <ChangePasswordForm onChanged={() => void load()} />
      </div>
    </section>
  );
}
