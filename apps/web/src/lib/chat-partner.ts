import type { ChatSummary } from "@sori/sdk";

/** The other person of a direct chat (their user id and username), or null for a group. */
export function directPartner(
  chat: ChatSummary,
  myUserId: string,
): { userId: string; username: string } | null {
  if (chat.kind !== "direct") return null;
  const i = chat.memberIds.findIndex((id) => id !== myUserId);
  const userId = chat.memberIds[i];
  const username = chat.members[i];
  return userId && username ? { userId, username } : null;
}
