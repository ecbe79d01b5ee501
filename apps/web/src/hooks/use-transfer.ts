import type { SoriClient } from "@sori/sdk";
import { useState } from "react";
import { useClientEvent } from "./use-client-event.ts";

export type Transfer = { direction: "up" | "down"; done: number; total: number };

/** The upload or download of one message's file while it runs (null when none is running). */
export function useTransfer(
  client: SoriClient,
  chatId: string,
  messageId: string,
  active: boolean,
): Transfer | null {
  const [transfer, setTransfer] = useState<Transfer | null>(null);
  useClientEvent(client, "transfer", (e) => {
    if (e.chat !== chatId || e.id !== messageId) return;
    setTransfer(e.done >= e.total ? null : { direction: e.direction, done: e.done, total: e.total });
  });
  return active ? transfer : null;
}
