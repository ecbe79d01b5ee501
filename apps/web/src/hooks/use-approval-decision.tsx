import { type DeviceApprovalRequest, SdkError } from "@sori/sdk";
import { useState } from "react";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";

// A .tsx file although it has no JSX: it uses the toast and i18n contexts, which the root tsconfig
// (plain .ts, no JSX) cannot follow.

/**
 * Approving or rejecting a waiting sign-in (the prompt and Settings → Devices), with which one is
 * being decided and a toast saying how it went; "not-found" means it no longer waits.
 */
export function useApprovalDecision(): {
  deciding: string | null;
  decide: (request: DeviceApprovalRequest, choice: "approve" | "reject") => Promise<void>;
} {
  const { t } = useI18n();
  const { approvals } = useSignedIn();
  const { showToast } = useToast();
  const [deciding, setDeciding] = useState<string | null>(null);
  const decide = async (request: DeviceApprovalRequest, choice: "approve" | "reject"): Promise<void> => {
    setDeciding(request.deviceId);
    try {
      await (choice === "approve" ? approvals.approve(request.deviceId) : approvals.reject(request.deviceId));
      showToast(t(choice === "approve" ? "approve.approved" : "approve.rejected", { name: request.name }));
    } catch (e) {
      showToast(e instanceof SdkError && e.code === "not-found" ? t("approve.gone") : t(errorMessageKey(e)));
    } finally {
      setDeciding(null);
    }
  };
  return { deciding, decide };
}
