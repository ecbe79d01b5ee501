import type { ChatSummary, SoriClient } from "@sori/sdk";
import { useCallback, useEffect, useState } from "react";
import { directPartner } from "../lib/chat-partner.ts";
import { useClientEvent } from "./use-client-event.ts";

/** A contact request from the other person of a direct chat, waiting for this person's answer. */
export type PendingContactRequest = {
  username: string;
  /** Answering: which answer is on its way (the buttons wait meanwhile). */
  answering: "accept" | "decline" | null;
  answer: (how: "accept" | "decline") => Promise<void>;
};

/**
 * The direct chat partner's pending request (the SDK's contact state `asked-me`), or null. Asked of
 * the SDK again on every `contact` event about them, so an answer from another device of this person
 * hides it too.
 */
export function usePendingContactRequest(
  client: SoriClient,
  chat: ChatSummary,
): PendingContactRequest | null {
  const partner = directPartner(chat, client.userId);
  const username = partner?.username ?? null;
  const [asked, setAsked] = useState(false);
  const [answering, setAnswering] = useState<"accept" | "decline" | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    if (!username) {
      setAsked(false);
      return;
    }
    client.contacts
      .get(username)
      .then((c) => !cancelled && setAsked(c?.state === "asked-me"))
      .catch(() => !cancelled && setAsked(false));
    return () => {
      cancelled = true;
    };
  }, [client, username, version]);

  useClientEvent(client, "contact", (c) => {
    if (c.userId === partner?.userId) setVersion((v) => v + 1);
  });

  const answer = useCallback(
    async (how: "accept" | "decline"): Promise<void> => {
      if (!username) return;
      setAnswering(how);
      try {
        await (how === "accept" ? client.contacts.accept(username) : client.contacts.decline(username));
      } finally {
        setAnswering(null);
        setVersion((v) => v + 1);
      }
    },
    [client, username],
  );

  return asked && username ? { username, answering, answer } : null;
}
