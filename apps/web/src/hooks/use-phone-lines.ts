import type { PhoneLine } from "@sori/sdk";
import { useCallback, useEffect, useState } from "react";
import { useSignedIn } from "../session/client-context.ts";
import { useClientEvent } from "./use-client-event.ts";

/** This person's phone lines: null while loading, kept current when they change here or on another device. */
export function usePhoneLines(): { lines: PhoneLine[] | null; failed: boolean; reload: () => Promise<void> } {
  const { client } = useSignedIn();
  const [lines, setLines] = useState<PhoneLine[] | null>(null);
  const [failed, setFailed] = useState(false);

  const reload = useCallback(async (): Promise<void> => {
    try {
      setLines(await client.phoneLines.list());
      setFailed(false);
    } catch {
      setFailed(true);
    }
  }, [client]);

  useEffect(() => {
    void reload();
  }, [reload]);
  // The lines live in this person's profile: another device of theirs adding one fires `profile` too.
  useClientEvent(client, "profile", ({ userId }) => {
    if (userId === client.userId) void reload();
  });
  return { lines, failed, reload };
}
