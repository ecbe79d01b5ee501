import type { SoriClient } from "@sori/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClientEvent } from "./use-client-event.ts";

/** Page-wide signal that this person changed a verified mark or accepted a change (several views show it). */
export const SAFETY_CHANGED_EVENT = "sori-safety-changed";

/** Tells every safety view on the page to reload (after setVerified or acceptSafetyNumberChange). */
export function notifySafetyChanged(): void {
  window.dispatchEvent(new Event(SAFETY_CHANGED_EVENT));
}

export type SafetyView = {
  digits: string;
  groups: string[];
  qr: string;
  userId: string;
  username: string;
  verified: boolean;
  /** Their account key changed and this person has not accepted it yet: nothing is sent to them. */
  changed: boolean;
};

/**
 * The safety number with one contact, recomputed when their account key changes or the change is
 * accepted (the SDK's `safety` event), with whether it is verified or changed. Null while computing
 * or when there is none.
 */
export function useSafety(
  client: SoriClient,
  username: string | null,
): { safety: SafetyView | null; failed: boolean; reload: () => void } {
  const [safety, setSafety] = useState<SafetyView | null>(null);
  const [failed, setFailed] = useState(false);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    if (!username) return;
    let cancelled = false;
    client
      .safetyNumber(username)
      .then((sn) => {
        if (cancelled) return;
        setSafety(sn);
        setFailed(false);
      })
      .catch(() => !cancelled && setFailed(true));
    return () => {
      cancelled = true;
    };
  }, [client, username, version]);

  useEffect(() => {
    window.addEventListener(SAFETY_CHANGED_EVENT, reload);
    return () => window.removeEventListener(SAFETY_CHANGED_EVENT, reload);
  }, [reload]);

  useClientEvent(client, "safety", (e) => {
    if (e.username === username) reload();
  });

  return { safety: safety?.username === username ? safety : null, failed, reload };
}
