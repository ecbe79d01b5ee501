import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import { SdkError } from "../errors.ts";
import type { ChatList } from "../groups/chat-list.ts";
import { MAX_TIMER_SECONDS } from "../messages/content.ts";
import type { MessageSender } from "../messages/message-sender.ts";
import { newMessageId } from "../messages/message-id.ts";
import { appendSystemLine } from "../messages/system-line.ts";

/** Each chat's disappearing-message timer, set by any member and announced in the chat. */
export class Timers {
  readonly #ctx: DeviceContext;
  readonly #deps: { sender: MessageSender; directory: Directory; chatList: ChatList };

  constructor(ctx: DeviceContext, deps: { sender: MessageSender; directory: Directory; chatList: ChatList }) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /**
   * Sets the chat's disappearing-message timer in seconds (0 = off, at most a week; apps offer
   * TIMER_CHOICES) for every member; the change is announced in the chat.
   */
  async set(chatId: string, seconds: number): Promise<void> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TIMER_SECONDS)
      throw new SdkError("bad-request", `the timer is 0 (off) to ${MAX_TIMER_SECONDS} seconds`);
    await this.#deps.chatList.requireChat(chatId);
    const id = newMessageId();
    await this.#deps.sender.sendContent(chatId, { v: 1, type: "timer", id, seconds, sentAt: Date.now() });
    await this.#ctx.mutex.run(() => this.apply(chatId, this.#ctx.enrolment.userId, seconds, id, Date.now()));
  }

  /** A timer change (ours, or another member's): stored with the chat and written into its history. */
  async apply(chat: string, by: string, seconds: number, id: string, sentAt: number): Promise<void> {
    const { chats, enrolment } = this.#ctx;
    const rec = await chats.updateChat(chat, { timer: seconds });
    if (!rec) return;
    const username = await this.#deps.directory.usernameOf(by);
    await appendSystemLine(this.#ctx, {
      id,
      chat,
      from: username,
      fromUserId: by,
      system: { event: "timer", seconds, by: username },
      sentAt,
      outgoing: by === enrolment.userId,
    });
    await this.#deps.chatList.emitChat(chat);
  }
}
