import { useSyncExternalStore } from "react";
import { useSignedIn } from "../session/client-context.ts";
import type { CallView } from "./call-store.ts";

/** The call on this device (ringing, in progress, or just ended), or null. */
export function useCallView(): CallView | null {
  const { calls } = useSignedIn();
  return useSyncExternalStore(calls.subscribe, calls.getSnapshot);
}
