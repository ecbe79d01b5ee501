import type { DeviceContext } from "../device/device-context.ts";
import type { ChatMessage, SystemEvent } from "./chat-store.ts";
import { newMessageId } from "./message-id.ts";

/** A line in a chat's history that no one wrote: a timer change, a safety-number change, a gap. */
export type SystemLine = {
  chat: string;
  /** Whom the line is about (shown as its sender). */
  from: string;
  fromUserId: string;
  system: SystemEvent;
  /** The id of the message that caused it, when there is one (a timer change); a new one otherwise. */
  id?: string;
  sentAt?: number;
  outgoing?: boolean;
  /** Also for the notification feed (takeReceived) and the unread count: something to answer. */
  notify?: boolean;
};

/**
 * Writes a system line into a chat's history (not counted as unread, not in the notification feed,
 * unless `notify`) and tells listeners.
 */
export async function appendSystemLine(
  ctx: Pick<DeviceContext, "chats" | "events">,
  line: SystemLine,
): Promise<ChatMessage> {
  const entry = await ctx.chats.append(
    {
      id: line.id ?? newMessageId(),
      chat: line.chat,
      from: line.from,
      fromUserId: line.fromUserId,
      kind: "system",
      text: "",
      system: line.system,
      sentAt: line.sentAt ?? Date.now(),
      outgoing: line.outgoing ?? false,
      status: "delivered",
    },
    { feed: line.notify ?? false, unread: line.notify ?? false },
  );
  ctx.events.emit("message", entry);
  return entry;
}
