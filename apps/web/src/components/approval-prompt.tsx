import { SdkError } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { useApprovals } from "../hooks/use-approvals.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatDateTime } from "../lib/format-time.ts";
import { useSignedIn } from "../session/client-context.ts";
import { ApprovalCode } from "./approval-code.tsx";
import { Dialog } from "./dialog.tsx";
import { useToast } from "./toast-provider.tsx";
import "./approval-prompt.css";

/**
 * On every approved device: a sign-in of this account waits for approval. One request at a time,
 * with the code the new device shows; closing it puts it off (it stays in Settings → Devices).
 */
export function ApprovalPrompt(): ReactNode {
  const { prompt, requests } = useApprovals();
  if (!prompt) return null;
  // A fresh dialog per request: the next one is not mistaken for the one just answered.
  return <ApprovalDialog key={prompt.deviceId} more={requests.length - 1} />;
}

function ApprovalDialog({ more }: { more: number }): ReactNode {
  const { t, tp, language } = useI18n();
  const { approvals } = useSignedIn();
  const { prompt } = useApprovals();
  const { showToast } = useToast();
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  if (!prompt) return null;
  const { deviceId, name } = prompt;

  const decide = (choice: "approve" | "reject"): void => {
    setBusy(choice);
    (choice === "approve" ? approvals.approve(deviceId) : approvals.reject(deviceId))
      .then(() => showToast(t(choice === "approve" ? "approve.approved" : "approve.rejected", { name })))
      .catch((e: unknown) => {
        setBusy(null);
        showToast(
          e instanceof SdkError && e.code === "not-found" ? t("approve.gone") : t(errorMessageKey(e)),
        );
      });
  };

  return (
    <Dialog title={t("approve.title")} onClose={() => approvals.putOff(deviceId)} testId="approval-prompt">
      <div className="approval-prompt" data-device-id={deviceId}>
        <p className="approval-prompt-who" data-testid="approval-prompt-device">
          {t("approve.who", { name, time: formatDateTime(prompt.createdAt, language) })}
        </p>
        <p>{t("approve.check")}</p>
        <ApprovalCode code={prompt.code} label={t("approval.code")} testId="approval-prompt-code" />
        <p className="muted small-text">{t("approve.notYou")}</p>
        {more > 0 && <p className="muted small-text">{tp("approve.more", more)}</p>}
        <div className="dialog-actions">
          <button
            type="button"
            className="button danger"
            data-testid="approval-reject"
            disabled={busy !== null}
            onClick={() => decide("reject")}
          >
            {t("approve.reject")}
          </button>
          <button
            type="button"
            className="button primary"
            data-testid="approval-approve"
            disabled={busy !== null}
            onClick={() => decide("approve")}
          >
            {t("approve.approve")}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
