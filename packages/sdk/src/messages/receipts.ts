import { splitBridgedUsername } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import { loadSettings } from "../features/settings.ts";
import { MAX_UNDELIVERED_REASON_CHARS } from "../limits.ts";
import type { Content } from "./content.ts";
import { publicView } from "./chat-store.ts";
import { newMessageId } from "./message-id.ts";

/** How far back markRead and read receipts look: only the recent past can hold unread messages. */
const READ_LOOKBACK = 500;
/** Message ids per receipt message. */
const RECEIPT_BATCH = 500;

/**
 * Delivery and read state: receipts this device sends for what it received (one message per chat and
 * batch of deliveries), and what others' receipts and read marks do to this user's messages.
 */
export class Receipts {
  readonly #ctx: DeviceContext;
  readonly #send: (chat: string, content: Content) => Promise<number>;
  readonly #emitChat: (chat: string) => Promise<void>;
  readonly #expiresAt: (at: number) => void;
  /** Incoming message ids per chat to confirm with a receipt once the current batch is processed. */
  readonly #queued = new Map<string, Set<string>>();

  constructor(
    ctx: DeviceContext,
    deps: {
      send: (chat: string, content: Content) => Promise<number>;
      emitChat: (chat: string) => Promise<void>;
      expiresAt: (at: number) => void;
    },
  ) {
    this.#ctx = ctx;
    this.#send = deps.send;
    this.#emitChat = deps.emitChat;
    this.#expiresAt = deps.expiresAt;
  }

  /** A message arrived: confirm it once the current batch is processed. */
  queue(chat: string, id: string): void {
    const ids = this.#queued.get(chat) ?? new Set<string>();
    ids.add(id);
    this.#queued.set(chat, ids);
  }

  /** Sends the queued receipts after the batch (outside the delivery that holds the mutex). */
  flushLater(): void {
    if (this.#queued.size > 0) this.#ctx.later(() => this.#flush());
  }

  async #flush(): Promise<void> {
    const batches = [...this.#queued];
    this.#queued.clear();
    if ((await loadSettings(this.#ctx.storage)).deliveryReceipts === "manual") return;
    for (const [chat, ids] of batches) await this.#sendReceipts(chat, [...ids]);
  }

  /**
   * Confirms messages this device received in `chat` (for "manual" delivery receipts: a bridge's
   * identity, once the other network's client has them). Ids it did not receive there are left out.
   */
  async confirmDelivered(chat: string, ids: string[]): Promise<void> {
    const { chats } = this.#ctx;
    await this.#requireChat(chat);
    const received: string[] = [];
    for (const id of new Set(ids)) {
      const m = await chats.getMessage(chat, id);
      if (m && !m.outgoing && m.kind !== "system") received.push(id);
    }
    await this.#sendReceipts(chat, received);
  }

  #sendReceipts(chat: string, ids: string[]): Promise<void> {
    return this.#inBatches(ids, (batch) =>
      this.#send(chat, { v: 1, type: "receipt", id: newMessageId(), ids: batch }),
    );
  }

  /** Message ids a batch at a time (one content names at most RECEIPT_BATCH of them). */
  async #inBatches(ids: string[], send: (batch: string[]) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < ids.length; i += RECEIPT_BATCH) await send(ids.slice(i, i + RECEIPT_BATCH));
  }

  async #requireChat(chat: string): Promise<void> {
    if (!(await this.#ctx.chats.getChat(chat)))
      throw new SdkError("unknown-chat", "no such chat on this device");
  }

  /** Another member's device confirmed one of our messages: delivered once every other member has. */
  async onReceipt(chat: string, id: string, fromUserId: string): Promise<void> {
    const { chats, groups, events, enrolment } = this.#ctx;
    const m = await chats.getMessage(chat, id);
    if (!m || !m.outgoing || m.status === "delivered") return;
    // Its gateway's device got it, but the gateway could not pass it on: that is not delivery.
    if (m.undelivered?.some((u) => u.userId === fromUserId)) return;
    const deliveredTo = [...new Set([...(m.deliveredTo ?? []), fromUserId])];
    const others = await groups.otherUserIds(chat, enrolment.userId);
    const all = [...others].every((u) => deliveredTo.includes(u));
    await chats.updateMessage(chat, id, { deliveredTo, ...(all ? { status: "delivered" as const } : {}) });
    if (all) events.emit("message-status", { chat, id, status: "delivered" });
  }

  /**
   * For a gateway's bridged identity: tells the senders in `chat` that these messages (received
   * here) could not be passed on to the other network, and why, in that network's words.
   */
  async reportUndelivered(chat: string, ids: string[], reason: string): Promise<void> {
    const text = reason.trim().slice(0, MAX_UNDELIVERED_REASON_CHARS) || "undeliverable";
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    await this.#requireChat(chat);
    await this.#inBatches(unique, (batch) =>
      this.#send(chat, { v: 1, type: "undelivered", id: newMessageId(), ids: batch, reason: text }),
    );
  }

  /**
   * A bridged member's gateway could not pass our messages on to its network: each is noted with the
   * reason, and "failed" once every other member of the chat is one it could not reach (a receipt
   * that came first, from the gateway's device, does not make it delivered).
   */
  async onUndelivered(
    chat: string,
    ids: string[],
    from: { userId: string; username: string },
    reason: string,
  ): Promise<void> {
    const { chats, groups, events, enrolment } = this.#ctx;
    // Only a gateway's identity may say so: a Sori member's device has nothing past it to fail.
    if (!splitBridgedUsername(from.username)) return;
    const others = await groups.otherUserIds(chat, enrolment.userId);
    if (!others.has(from.userId)) return;
    for (const id of new Set(ids)) {
      const m = await chats.getMessage(chat, id);
      if (!m || !m.outgoing || m.kind === "system") continue;
      const undelivered = [
        ...(m.undelivered ?? []).filter((u) => u.userId !== from.userId),
        { userId: from.userId, username: from.username, reason },
      ];
      const all = [...others].every((u) => undelivered.some((x) => x.userId === u));
      const next = await chats.updateMessage(chat, id, {
        undelivered,
        ...(all ? { status: "failed" as const } : {}),
      });
      if (!next) continue;
      if (all && m.status !== "failed") events.emit("message-status", { chat, id, status: "failed" });
      events.emit("message-updated", publicView(next));
    }
  }

  /** A member read up to `upTo`: our messages up to then are read once every other member has. */
  async onRead(chat: string, readerId: string, upTo: number): Promise<void> {
    const { chats, groups, events, enrolment } = this.#ctx;
    const others = await groups.otherUserIds(chat, enrolment.userId);
    for (const m of await chats.history(chat, { limit: READ_LOOKBACK })) {
      if (!m.outgoing || m.sentAt > upTo || m.read || m.kind === "system") continue;
      const stored = await chats.getMessage(chat, m.id);
      // Not read by a member whose gateway could not pass it on (see onUndelivered).
      if (!stored || stored.undelivered?.some((u) => u.userId === readerId)) continue;
      const readBy = [...new Set([...(stored.readBy ?? []), readerId])];
      const all = [...others].every((u) => readBy.includes(u));
      // Reading implies delivery (a receipt may be switched off or still on its way).
      const next = await chats.updateMessage(chat, m.id, {
        readBy,
        ...(all ? { read: true, status: "delivered" as const } : {}),
      });
      if (all && next) {
        if (m.status !== "delivered") events.emit("message-status", { chat, id: m.id, status: "delivered" });
        events.emit("message-updated", publicView(next));
      }
    }
  }

  /**
   * Marks the messages of a chat as read: all of them, or with `upTo` those sent up to that
   * message's time (the ones after it stay unread; a read receipt carries a time, not ids). Starts
   * the disappearing timers of the messages read, and tells the senders (unless read receipts are
   * off in settings).
   */
  async markRead(chatId: string, options: { upTo?: string } = {}): Promise<void> {
    const { chats, storage } = this.#ctx;
    const rec = await chats.getChat(chatId);
    if (!rec) return;
    let bound = Number.POSITIVE_INFINITY;
    if (options.upTo !== undefined) {
      const last = await chats.getMessage(chatId, options.upTo);
      if (!last) throw new SdkError("not-found", "no such message in this chat");
      bound = last.sentAt;
    }
    let newest = 0;
    // Messages after `upTo` that were not read before stay unread.
    let after = 0;
    const now = Date.now();
    for (const m of await chats.history(chatId, { limit: READ_LOOKBACK })) {
      if (m.outgoing || m.kind === "system") continue;
      if (m.sentAt > bound) {
        if (m.sentAt > (rec.readUpTo ?? 0)) after++;
        continue;
      }
      newest = Math.max(newest, m.sentAt);
      if (m.expiresIn && m.expiresAt === undefined) {
        const expiresAt = now + m.expiresIn * 1000;
        await chats.updateMessage(chatId, m.id, { expiresAt });
        this.#expiresAt(expiresAt);
      }
    }
    const unread = Math.min(rec.unread, after);
    if (rec.unread !== unread) {
      await chats.updateChat(chatId, { unread });
      await this.#emitChat(chatId);
    }
    if (newest > (rec.readUpTo ?? 0)) {
      await chats.updateChat(chatId, { readUpTo: newest });
      if (rec.active && (await loadSettings(storage)).readReceipts) {
        // Not awaited: marking read must not wait on the network (close() still lets it finish,
        // since the send is queued on the mutex before close's turn).
        void this.#send(chatId, { v: 1, type: "read", id: newMessageId(), upTo: newest }).catch(
          (e: unknown) =>
            this.#ctx.warn("read-receipt-failed", `could not send a read receipt: ${(e as Error).message}`),
        );
      }
    }
  }
}
