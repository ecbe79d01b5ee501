import type { SoriClient } from "@sori/sdk";
import { useEffect, useState } from "react";
import { useClientEvent } from "./use-client-event.ts";

/** A "typing" without a following "stopped" (a closed tab, a lost link) is forgotten after this long. */
const STALE_MS = 6000;

export type Typist = { userId: string; username: string; at: number };

/** The other members typing in a chat right now, oldest first. */
export function useTyping(client: SoriClient, chatId: string): Typist[] {
  const [typists, setTypists] = useState<Typist[]>([]);

  useEffect(() => setTypists([]), [chatId]);

  useClientEvent(client, "typing", (e) => {
    if (e.chat !== chatId || e.userId === client.userId) return;
    setTypists((all) => {
      const others = all.filter((x) => x.userId !== e.userId);
      return e.typing ? [...others, { userId: e.userId, username: e.username, at: Date.now() }] : others;
    });
  });

  // A new message from someone means they stopped typing.
  useClientEvent(client, "message", (m) => {
    if (m.chat !== chatId || m.outgoing) return;
    setTypists((all) =>
      all.some((x) => x.userId === m.fromUserId) ? all.filter((x) => x.userId !== m.fromUserId) : all,
    );
  });

  useEffect(() => {
    if (typists.length === 0) return;
    const oldest = Math.min(...typists.map((x) => x.at));
    const timer = window.setTimeout(
      () => setTypists((all) => all.filter((x) => Date.now() - x.at < STALE_MS)),
      Math.max(0, oldest + STALE_MS - Date.now()) + 50,
    );
    return () => window.clearTimeout(timer);
  }, [typists]);

  return typists;
}
