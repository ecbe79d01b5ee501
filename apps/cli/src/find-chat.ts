import { type ChatSummary, SdkError, type SoriClient } from "@sori/sdk";

/** The chat `target` (a chat id or a username) names on this device, or an "unknown-chat" error. */
export async function findChat(client: SoriClient, target: string): Promise<ChatSummary> {
  const chat = await client.findChat(target);
  if (!chat) throw new SdkError("unknown-chat", `no chat "${target}" on this device`);
  return chat;
}
