import { type ReactNode, useState } from "react";
import { ApprovalCode } from "../components/approval-code.tsx";
import { Dialog } from "../components/dialog.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import type { PendingApproval, SessionController } from "../session/session-controller.ts";
import { AuthFooter } from "./auth-footer.tsx";
import "./auth-screen.css";
import "./approval-screen.css";

/**
 * After signing in on a new browser: it waits until another device of the account approves it. A
 * password sign-in shows the code to compare with the approving device, and offers a way out for a
 * person with no other device (a new identity key, confirmed first); a link sign-in waits for the
 * device that showed the code, which approves it by itself. Cancel signs this waiting device out.
 */
export function ApprovalScreen({
  session,
  state,
}: {
  session: SessionController;
  state: PendingApproval;
}): ReactNode {
  const { t } = useI18n();
  const [busy, setBusy] = useState<"cancel" | "reset" | null>(null);
  const [confirmReset, setConfirmReset] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const link = state.via === "link";

  const cancel = (): void => {
    setBusy("cancel");
    void session.cancelApproval();
  };

  const reset = (): void => {
    setBusy("reset");
    setError(null);
    // On success the session moves on into the app; this screen goes away.
    session.resetIdentity().catch((e: unknown) => {
      setBusy(null);
      setConfirmReset(false);
      setError(t(errorMessageKey(e)));
    });
  };

  return (
    <div className="auth-screen">
      <main className="auth-card approval-screen" data-testid="approval-screen" data-via={state.via}>
        <h1 className="approval-title">{link ? t("approval.linkTitle") : t("approval.title")}</h1>
        <p>{link ? t("approval.linkBody") : t("approval.body")}</p>
        {!link && state.code && (
          <ApprovalCode code={state.code} label={t("approval.code")} testId="approval-code" />
        )}
        <p className="approval-waiting muted" role="status">
          <span className="spinner" aria-hidden="true" />
          {t("approval.waiting")}
        </p>
        {link && state.code && (
          <div className="approval-fallback">
            <p className="muted small-text">{t("approval.linkFallback")}</p>
            <ApprovalCode code={state.code} label={t("approval.code")} testId="approval-code" size="small" />
          </div>
        )}
        {error && (
          <p className="form-error" role="alert" data-testid="approval-error">
            {error}
          </p>
        )}
        <button
          type="button"
          className="button wide"
          data-testid="approval-cancel"
          disabled={busy !== null}
          onClick={cancel}
        >
          {busy === "cancel" ? t("approval.cancelling") : t("approval.cancel")}
        </button>
        {!link && (
          <button
            type="button"
            className="link-button"
            data-testid="approval-no-devices"
            disabled={busy !== null}
            onClick={() => setConfirmReset(true)}
          >
            {t("approval.noDevices")}
          </button>
        )}
        <AuthFooter />
      </main>
      {confirmReset && (
        <Dialog
          title={t("approval.resetTitle")}
          onClose={() => busy === null && setConfirmReset(false)}
          testId="approval-reset-dialog"
        >
          <p>{t("approval.resetIntro")}</p>
          <ul className="approval-consequences">
            <li>{t("approval.resetContacts")}</li>
            <li>{t("approval.resetDevices")}</li>
            <li>{t("approval.resetHistory")}</li>
          </ul>
          <div className="dialog-actions">
            <button
              type="button"
              className="button"
              disabled={busy !== null}
              onClick={() => setConfirmReset(false)}
            >
              {t("common.cancel")}
            </button>
            <button
              type="button"
              className="button danger"
              data-testid="approval-reset-confirm"
              disabled={busy !== null}
              onClick={reset}
            >
              {busy === "reset" ? t("approval.resetting") : t("approval.resetConfirm")}
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
