import type { SoriClient } from "@sori/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClientEvent } from "./use-client-event.ts";

/** Page-wide signal that this person changed a verified mark (several views may show it). */
const CHANGED = "sori-safety-changed";

/** Tells every safety view on the page to reload (after setVerified). */
export function notifySafetyChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

export type SafetyView = {
  digits: string;
  groups: string[];
  qr: string;
  userId: string;
  username: string;
  verified: boolean;
};

/**
 * The safety number with one contact, recomputed when their devices change (the SDK's `safety`
 * event), with whether this person marked it verified. Null while computing or when there is none.
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
    window.addEventListener(CHANGED, reload);
    return () => window.removeEventListener(CHANGED, reload);
  }, [reload]);

  useClientEvent(client, "safety", (e) => {
    if (e.username === username) reload();
  });

  return { safety: safety?.username === username ? safety : null, failed, reload };
}
