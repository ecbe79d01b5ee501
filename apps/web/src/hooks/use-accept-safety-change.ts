import type { SoriClient } from "@sori/sdk";
import { useCallback, useState } from "react";
import { notifySafetyChanged } from "./use-safety.ts";

/**
 * Accepting a contact's new safety number (`acceptSafetyNumberChange`), with which one is being
 * accepted right now; every safety view on the page reloads afterwards. Rejects with the SDK's error.
 */
export function useAcceptSafetyChange(client: SoriClient): {
  accepting: string | null;
  accept: (username: string) => Promise<void>;
} {
  const [accepting, setAccepting] = useState<string | null>(null);
  const accept = useCallback(
    async (username: string): Promise<void> => {
      setAccepting(username);
      try {
        await client.acceptSafetyNumberChange(username);
        notifySafetyChanged();
      } finally {
        setAccepting(null);
      }
    },
    [client],
  );
  return { accepting, accept };
}
