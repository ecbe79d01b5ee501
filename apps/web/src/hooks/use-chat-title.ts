import type { ChatSummary } from "@sori/sdk";
import { directPartner } from "../lib/chat-partner.ts";
import { useSignedIn } from "../session/client-context.ts";
import { useProfile } from "./use-profile.ts";

/** What to call a chat: a group's name, or the other person's display name (else username). */
export function useChatTitle(chat: ChatSummary): string {
  const { client } = useSignedIn();
  const partner = directPartner(chat, client.userId);
  const profile = useProfile(partner?.userId ?? null);
  return (partner && profile.displayName) || chat.name;
}
