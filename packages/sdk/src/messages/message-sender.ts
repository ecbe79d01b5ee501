import { encrypt, groupEpoch } from "@sori/crypto";
import { PUSH_LEVEL, type PushWakeKind, toBase64 } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import { codeOf } from "../failures.ts";
import { answerOf, type SendState, sendStep, startSend } from "../groups/commit-machine.ts";
import type { PendingCommits } from "../groups/pending-commits.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { type ChatMessage, type MessageStatus, publicView, type StoredMessage } from "./chat-store.ts";
import type { DistributiveOmit } from "../util/distributive-omit.ts";
import { type Content, encodeContent } from "./content.ts";
import { contentForMessage } from "./message-features.ts";
import { newMessageId } from "./message-id.ts";

export type MessageSenderDeps = {
  pending: PendingCommits;
  /** Fixes a group's devices after `group-outdated`. */
  reconcile(groupId: string): Promise<void>;
  /** Whether the connection was started (a send without one fails at once). */
  connected(): boolean;
  waitConnected(): Promise<void>;
  /** A user message went out in a chat (it ends "typing" there). */
  userMessageSent(chatId: string): void;
  /** A message with a disappearing timer was stored. */
  expiresAt(at: number): void;
  /** The number of this device's next durable message in the chat (sender-order.ts). */
  nextSeq(groupId: string): Promise<number>;
  releaseSeq(groupId: string, seq: number): Promise<void>;
  /** Members whose account key changed and is not acknowledged: nothing is sent to the chat then. */
  blockedBy(groupId: string): Promise<string[]>;
  changedError(userIds: string[]): Promise<SdkError>;
  /** This device fell out of the chat and waits to be re-added: nothing it encrypts could be read. */
  isBehind(groupId: string): Promise<boolean>;
  /** Devices whose KeyPackages were refused (their account did not sign them in). */
  refusedDevices(): ReadonlySet<string>;
  /** The connected server's feature level (0 before the first connection). */
  featureLevel(): number;
};

/**
 * What a send does while a member's account key change is not acknowledged: "throw" (what a person
 * sends), "skip" (what the device sends by itself: receipts, typing, profiles), "send" (leaving).
 */
export type WhenBlocked = "throw" | "skip" | "send";

/** What a user message is made of before it gets an id, a time and a status. */
export type UserMessageBody = DistributiveOmit<
  StoredMessage,
  "id" | "chat" | "from" | "fromUserId" | "sentAt" | "outgoing" | "status" | "order"
>;

/**
 * The send queue: every outgoing MLS application message goes through `sendContent` (encrypt, send,
 * and the commit machine's retries); user messages are stored first as "sending", with an outbox key
 * written before them so that a crash at any point leaves a trace the next start resends.
 */
export class MessageSender {
  readonly #ctx: DeviceContext;
  readonly #deps: MessageSenderDeps;
  /** Outbox keys found at the first connect: sends a previous run of the app did not see answered. */
  #interrupted: string[] | undefined;

  constructor(ctx: DeviceContext, deps: MessageSenderDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /**
   * Encrypts and sends; on stale-epoch catches up, on group-outdated fixes membership, then retries.
   * `expiresAt` (ms) lets the server drop undelivered copies when a disappearing message runs out;
   * `transient` (call signalling) skips the server's store-and-forward; `unnumbered` leaves a durable
   * content out of the sender's message counter (content older clients cannot parse, which they would
   * otherwise count as missing); `wake` (a ring, transient) has the server wake the other people's
   * offline devices, on servers that can (feature level 7). Returns the server's time.
   */
  async sendContent(
    groupId: string,
    content: Content,
    options: {
      transient?: boolean;
      wake?: Extract<PushWakeKind, "call">;
      expiresAt?: number;
      whenBlocked?: WhenBlocked;
      unnumbered?: boolean;
    } = {},
  ): Promise<number> {
    const ctx = this.#ctx;
    const whenBlocked = options.whenBlocked ?? "throw";
    let blocked: string[] = [];
    let behind = false;
    // Made at the first encryption, under the mutex: durable messages are numbered in the order sent.
    let plaintext: Uint8Array | undefined;
    let seq: number | undefined;
    const blobs = blobIdsOf(content);
    // Kept across attempts: after a lost answer the very same ciphertext is resent under the same id,
    // which the server recognises; it is encrypted again only when the epoch moved on.
    let prepared: { epoch: number; data: string } | undefined;
    let s: SendState = startSend();
    let sentAt = 0;
    let lastError: SdkError | undefined;
    for (;;) {
      // Under the mutex from the first check on, so that sends keep the order they were made in.
      s = await ctx.mutex.run(async () => {
        let state = s;
        if (state.phase === "settle" && !state.encrypted) {
          behind = await this.#deps.isBehind(groupId);
          if (behind) return state;
          if (whenBlocked !== "send") blocked = await this.#deps.blockedBy(groupId);
          if (blocked.length > 0) return state;
        }
        while (state.phase === "settle" || state.phase === "encrypt" || state.phase === "send") {
          if (state.phase === "settle") {
            const ok = !this.#deps.pending.has(groupId) || (await this.#deps.pending.settle(groupId));
            if (!ok) lastError = new SdkError("offline", "an earlier change to this chat is not settled yet");
            state = sendStep(state, { type: "settled", ok });
          } else if (state.phase === "encrypt") {
            const group = await ctx.groups.load(groupId);
            if (!plaintext) {
              seq = options.transient || options.unnumbered ? undefined : await this.#deps.nextSeq(groupId);
              plaintext = encodeContent(content, seq);
            }
            const { group: next, message } = await encrypt(group, plaintext);
            // Saved before sending: reusing a ratchet generation for other bytes would break AES-GCM.
            await ctx.groups.save(groupId, next);
            prepared = { epoch: Number(groupEpoch(group)), data: toBase64(message) };
            state = sendStep(state, { type: "encrypted" });
          } else {
            try {
              const r = await ctx.request({
                type: "send",
                groupId,
                messageId: content.id,
                ...prepared!,
                ...(options.transient ? { transient: true } : {}),
                ...(options.wake && this.#deps.featureLevel() >= PUSH_LEVEL ? { wake: options.wake } : {}),
                ...(options.expiresAt !== undefined ? { expiresAt: options.expiresAt } : {}),
                ...(blobs.length > 0 ? { blobs } : {}),
              });
              sentAt = r.sentAt;
              state = sendStep(state, { type: "answer", answer: { kind: "accepted" } });
            } catch (error) {
              if (!(error instanceof SdkError)) throw error;
              lastError = error;
              const answer = answerOf(error.code, error.details);
              const missing = error.details.missingDevices ?? [];
              if (
                answer.kind === "group-outdated" &&
                missing.length > 0 &&
                missing.every((d) => this.#deps.refusedDevices().has(d))
              ) {
                // Reconciling cannot help: the server wants a device its user's account never signed in.
                if (seq !== undefined) await this.#deps.releaseSeq(groupId, seq);
                throw new SdkError(
                  "forbidden",
                  "not sent: the server insists on a device that its user's account did not sign in (it was refused; the server may be trying to read this chat)",
                );
              }
              // Refused outright: no receiver will see this number, so the next message may take it.
              if (answer.kind === "refused" && seq !== undefined) await this.#deps.releaseSeq(groupId, seq);
              state = sendStep(state, { type: "answer", answer });
            }
          }
        }
        return state;
      });
      if (behind || blocked.length > 0) {
        if (whenBlocked === "skip") return 0;
        if (behind)
          throw new SdkError(
            "out-of-sync",
            "this device missed a change to the chat and waits for another member to re-add it; try again soon",
          );
        throw await this.#deps.changedError(blocked);
      }
      if (s.phase === "done") return sentAt;
      if (s.phase === "failed") {
        if (s.error?.code === "refused" && lastError) throw lastError;
        throw new SdkError("conflict", s.error?.message ?? "could not send");
      }
      if (s.phase === "wait-link") {
        if (!this.#deps.connected()) throw lastError ?? new SdkError("offline", "not connected");
        await this.#deps.waitConnected();
      } else if (s.phase === "catch-up") {
        await ctx.groups.waitEpoch(groupId, s.waitEpoch ?? 0);
      } else {
        await this.#deps.reconcile(groupId);
      }
      s = sendStep(s, { type: "waited" });
    }
  }

  /**
   * Stores the message as "sending" (and tells listeners at once), then sends it. On failure it stays
   * in history as "failed", ready for retry(), and the error is thrown.
   */
  async sendUserMessage(chatId: string, body: UserMessageBody, id?: string): Promise<ChatMessage> {
    return this.deliverOutgoing(await this.appendOutgoing(chatId, body, id));
  }

  /**
   * Stores a new outgoing message as "sending" and tells listeners; deliverOutgoing() sends it. `id` is
   * the caller's (an idempotent send), else a new one.
   */
  async appendOutgoing(chatId: string, body: UserMessageBody, id = newMessageId()): Promise<ChatMessage> {
    const ctx = this.#ctx;
    this.#deps.userMessageSent(chatId);
    // Written before the message, so a crash at any point leaves a trace that the next start resends.
    await ctx.storage.put(StorageKeys.outbox(chatId, id), new Uint8Array(0));
    const timer = (await ctx.chats.getChat(chatId))?.timer ?? 0;
    const now = Date.now();
    const message = await ctx.chats.append(
      {
        id,
        chat: chatId,
        from: ctx.enrolment.username,
        fromUserId: ctx.enrolment.userId,
        ...body,
        // The sender's copy starts its timer at once; the server's copies expire with it.
        ...(timer > 0 ? { expiresIn: timer, expiresAt: now + timer * 1000 } : {}),
        sentAt: now,
        outgoing: true,
        status: "sending",
      },
      { feed: false, unread: false },
    );
    ctx.events.emit("message", message);
    if (message.expiresAt !== undefined) this.#deps.expiresAt(message.expiresAt);
    return message;
  }

  /** Sends a stored outgoing message (again, under its id); "failed" if that does not work. */
  async deliverOutgoing(m: ChatMessage): Promise<ChatMessage> {
    const ctx = this.#ctx;
    await ctx.storage.put(StorageKeys.outbox(m.chat, m.id), new Uint8Array(0));
    if (m.status !== "sending") await this.setStatus(m.chat, m.id, "sending");
    const stored = (await ctx.chats.getMessage(m.chat, m.id)) ?? m;
    const content = contentForMessage(stored);
    try {
      await this.sendContent(m.chat, content, { expiresAt: m.expiresAt });
      // The message keeps the time it was written: the one inside it that everyone shows and orders by.
      const sentAt = stored.sentAt;
      const updated = await ctx.chats.updateMessage(m.chat, m.id, { status: "sent" });
      await ctx.storage.delete(StorageKeys.outbox(m.chat, m.id));
      ctx.events.emit("message-status", { chat: m.chat, id: m.id, status: "sent" });
      return updated ? { ...publicView(updated), sentAt } : { ...m, status: "sent", sentAt };
    } catch (error) {
      await this.setStatus(m.chat, m.id, "failed");
      // Failed for this run: the person decides whether to retry(), so the next start does not resend it.
      await ctx.storage.delete(StorageKeys.outbox(m.chat, m.id)).catch(() => undefined);
      throw error;
    }
  }

  async setStatus(chat: string, id: string, status: MessageStatus): Promise<void> {
    await this.#ctx.chats.updateMessage(chat, id, { status });
    this.#ctx.events.emit("message-status", { chat, id, status });
  }

  /** Remembers the outbox of a previous run (once, at the first connect). */
  async loadInterrupted(): Promise<void> {
    this.#interrupted = await this.#ctx.storage.list(StorageKeys.outboxes);
  }

  /**
   * Sends again, in their original order and under their original ids, the messages a previous run left
   * "sending" (the app was closed or crashed before the server answered). If the server had accepted one,
   * it answers the resend as a duplicate, so nothing arrives twice.
   */
  resendInterrupted(): void {
    const keys = this.#interrupted ?? [];
    this.#interrupted = [];
    if (keys.length === 0) return;
    void this.#resend(keys).catch((e: unknown) =>
      this.#ctx.warn("resend-failed", `could not resend an interrupted message (${codeOf(e)})`),
    );
  }

  async #resend(keys: string[]): Promise<void> {
    const ctx = this.#ctx;
    const messages: ChatMessage[] = [];
    for (const key of keys) {
      const [, chat, id] = key.split("/");
      const m = chat && id ? await ctx.chats.getMessage(chat, id) : undefined;
      if (m?.outgoing && m.status === "sending") messages.push(m);
      else await ctx.storage.delete(key);
    }
    messages.sort((a, b) => a.order - b.order);
    for (const m of messages) {
      try {
        await this.deliverOutgoing(m);
      } catch (error) {
        ctx.warn("resend-failed", `could not resend an interrupted message (${codeOf(error)})`);
      }
    }
  }
}

/** Attachments a content refers to: the server keeps them until every recipient fetched them. */
function blobIdsOf(content: Content): string[] {
  if (content.type === "file") return [content.file.blobId];
  if (content.type === "sticker-pack") return content.pack.stickers.map((s) => s.file.blobId);
  if (content.type === "sticker" && content.file) return [content.file.blobId];
  return [];
}
