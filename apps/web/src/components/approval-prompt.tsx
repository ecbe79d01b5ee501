import type { DeviceApprovalRequest } from "@sori/sdk";
import type { ReactNode } from "react";
import { useApprovalDecision } from "../hooks/use-approval-decision.tsx";
import { useApprovals } from "../hooks/use-approvals.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { formatDateTime } from "../lib/format-time.ts";
import { useSignedIn } from "../session/client-context.ts";
import { ApprovalCode } from "./approval-code.tsx";
import { Dialog } from "./dialog.tsx";
import "./approval-prompt.css";

/**
 * On every approved device: a sign-in of this account waits for approval. One request at a time,
 * with the code the new device shows; closing it puts it off (it stays in Settings → Devices).
 */
export function ApprovalPrompt(): ReactNode {
  const { prompt, requests } = useApprovals();
  if (!prompt) return null;
  // A fresh dialog per request: the next one is not mistaken for the one just answered.
  return <ApprovalDialog key={prompt.deviceId} request={prompt} more={requests.length - 1} />;
}

function ApprovalDialog({
  request: prompt,
  more,
}: {
  request: DeviceApprovalRequest;
  more: number;
}): ReactNode {
  const { t, tp, language } = useI18n();
  const { approvals } = useSignedIn();
  const { deciding, decide } = useApprovalDecision();
  const busy = deciding !== null;

  return (
    <Dialog
      title={t("approve.title")}
      onClose={() => approvals.putOff(prompt.deviceId)}
      testId="approval-prompt"
    >
      <div className="approval-prompt" data-device-id={prompt.deviceId}>
        <p className="approval-prompt-who" data-testid="approval-prompt-device">
          {t("approve.who", { name: prompt.name, time: formatDateTime(prompt.createdAt, language) })}
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
            disabled={busy}
            onClick={() => void decide(prompt, "reject")}
          >
            {t("approve.reject")}
          </button>
          <button
            type="button"
            className="button primary"
            data-testid="approval-approve"
            disabled={busy}
            onClick={() => void decide(prompt, "approve")}
          >
            {t("approve.approve")}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
