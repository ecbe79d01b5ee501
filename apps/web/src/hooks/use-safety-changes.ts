import type { ChatSummary, SoriClient } from "@sori/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClientEvent } from "./use-client-event.ts";
import { SAFETY_CHANGED_EVENT } from "./use-safety.ts";

export type SafetyChange = { userId: string; username: string };

/**
 * The members of a chat whose safety number changed and who were not accepted yet: the SDK sends
 * nothing to the chat until each is accepted. Asked of the SDK per member (a group has few), again
 * whenever a member's key changes or is accepted (the `safety` event) and when this page accepts one.
 */
export function useSafetyChanges(client: SoriClient, chat: ChatSummary): SafetyChange[] {
  const [changed, setChanged] = useState<SafetyChange[]>([]);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  // A stable key: the member list is a new array on every chat-list refresh.
  const others = chat.members.filter((_, i) => chat.memberIds[i] !== client.userId).join("\n");

  useEffect(() => {
    let cancelled = false;
    const usernames = others ? others.split("\n") : [];
    void Promise.all(
      usernames.map((username) =>
        client
          .safetyNumber(username)
          // No key known for them yet means nothing to accept either.
          .then((sn) => (sn.changed ? [{ userId: sn.userId, username: sn.username }] : []))
          .catch(() => []),
      ),
    ).then((lists) => {
      if (!cancelled) setChanged(lists.flat());
    });
    return () => {
      cancelled = true;
    };
  }, [client, others, version]);

  useEffect(() => {
    window.addEventListener(SAFETY_CHANGED_EVENT, reload);
    return () => window.removeEventListener(SAFETY_CHANGED_EVENT, reload);
  }, [reload]);

  useClientEvent(client, "safety", (e) => {
    if (chat.memberIds.includes(e.userId)) reload();
  });

  return changed;
}
