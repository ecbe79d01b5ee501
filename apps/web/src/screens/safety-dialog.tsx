import { type ReactNode, useState } from "react";
import { Dialog } from "../components/dialog.tsx";
import { Icon } from "../components/icon.tsx";
import { QrCode } from "../components/qr-code.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useAcceptSafetyChange } from "../hooks/use-accept-safety-change.ts";
import { notifySafetyChanged, useSafety } from "../hooks/use-safety.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./safety-dialog.css";

/**
 * The safety number with one contact: 60 digits in twelve groups and the same as a QR code, to
 * compare in person; marking it verified shows a shield in the chat until their account key changes.
 * After a change it says so and offers Accept (and Mark as verified, which accepts too): until then
 * nothing is sent to them. Loaded lazily: the QR encoder is not needed at start.
 */
export function SafetyDialog({
  username,
  name,
  onClose,
}: {
  username: string;
  name: string;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const { safety, failed } = useSafety(client, username);
  const [busy, setBusy] = useState(false);
  const { accepting, accept } = useAcceptSafetyChange(client);

  const setVerified = (verified: boolean): void => {
    setBusy(true);
    client
      .setVerified(username, verified)
      .then(notifySafetyChanged)
      .catch((e: unknown) => showToast(t(errorMessageKey(e))))
      .finally(() => setBusy(false));
  };

  return (
    <Dialog title={t("safety.with", { name })} onClose={onClose} testId="safety-dialog">
      {!safety ? (
        <p className="muted" role="status">
          {failed ? t("error.generic") : t("common.loading")}
        </p>
      ) : (
        <div className="safety">
          <QrCode text={safety.qr} label={t("safety.qr", { name })} />
          <p className="safety-digits" data-testid="safety-digits" data-digits={safety.digits}>
            {safety.groups.map((g, i) => (
              <span key={i}>{g}</span>
            ))}
          </p>
          <p className="muted small-text">{t("safety.hint", { name })}</p>
          {safety.changed ? (
            <div className="safety-changed" role="alert" data-testid="safety-changed">
              <Icon name="warning" size={18} />
              <div>
                <p className="safety-changed-title">{t("system.identityChanged", { name })}</p>
                <p className="small-text">{t("safety.changedExplain", { name })}</p>
              </div>
            </div>
          ) : (
            <p
              className={safety.verified ? "safety-state verified" : "safety-state"}
              data-testid="safety-state"
              data-verified={safety.verified}
            >
              <Icon name={safety.verified ? "shieldCheck" : "shield"} size={18} />
              {safety.verified ? t("safety.verifiedNamed", { name }) : t("safety.notVerified")}
            </p>
          )}
          <div className="dialog-actions">
            {safety.changed && (
              <button
                type="button"
                className="button"
                data-testid="safety-accept"
                disabled={busy || accepting !== null}
                onClick={() => {
                  accept(username).catch((e: unknown) => showToast(t(errorMessageKey(e))));
                }}
              >
                {t("safety.acceptChange")}
              </button>
            )}
            {safety.verified ? (
              <button type="button" className="button" disabled={busy} onClick={() => setVerified(false)}>
                {t("safety.clearVerified")}
              </button>
            ) : (
              <button
                type="button"
                className="button primary"
                data-testid="safety-verify"
                disabled={busy || accepting !== null}
                onClick={() => setVerified(true)}
              >
                {t("safety.markVerified")}
              </button>
            )}
          </div>
        </div>
      )}
    </Dialog>
  );
}
