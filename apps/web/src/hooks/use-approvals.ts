import { useSyncExternalStore } from "react";
import type { ApprovalsSnapshot } from "../session/approvals-store.ts";
import { useSignedIn } from "../session/client-context.ts";

/** The account's sign-ins waiting for approval, and the one the prompt shows. */
export function useApprovals(): ApprovalsSnapshot {
  const { approvals } = useSignedIn();
  return useSyncExternalStore(approvals.subscribe, approvals.getSnapshot);
}
