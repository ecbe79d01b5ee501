import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import type { ChatList, ChatSummary } from "../groups/chat-list.ts";
import { loadSettings } from "../features/settings.ts";
import { MAX_TEXT_CHARS } from "../limits.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { type ChatMessage, publicView, type StoredMessage } from "./chat-store.ts";
import type { Content, FileRef } from "./content.ts";
import type { MessageSender, UserMessageBody } from "./message-sender.ts";
import { changePatch, isReactionEmoji, snippetOf } from "./message-features.ts";
import { newMessageId } from "./message-id.ts";

/** Repeated "typing" is sent at most this often per chat. */
const TYPING_THROTTLE_MS = 3000;

type Change = Extract<Content, { type: "reaction" | "edit" | "delete" }>;

/**
 * What a person does to messages already in a chat: replies (the quote), reactions, edits, deletion
 * for everyone or on this device, forwarding, and typing indicators.
 */
export class MessageActions {
  readonly #ctx: DeviceContext;
  readonly #chatList: ChatList;
  readonly #sender: MessageSender;
  /** Finds a chat by id or username, creating the direct chat for a username if needed. */
  readonly #chatFor: (chatOrUsername: string) => Promise<ChatSummary>;
  readonly #uploadCopy: (bytes: Uint8Array) => Promise<Pick<FileRef, "blobId" | "key" | "hash">>;
  /** Chats where this device last said "typing", and when. */
  readonly #typingSent = new Map<string, number>();

  constructor(
    ctx: DeviceContext,
    deps: {
      chatList: ChatList;
      sender: MessageSender;
      chatFor: (chatOrUsername: string) => Promise<ChatSummary>;
      /** Uploads a file's bytes again (encrypted under a new key) for a forward of an expired blob. */
      uploadCopy: (bytes: Uint8Array) => Promise<Pick<FileRef, "blobId" | "key" | "hash">>;
    },
  ) {
    this.#ctx = ctx;
    this.#chatList = deps.chatList;
    this.#sender = deps.sender;
    this.#chatFor = deps.chatFor;
    this.#uploadCopy = deps.uploadCopy;
  }

  /** The quote for a reply to `replyTo`; "not-found" unless it is a message of the chat. */
  async replyOf(
    chatId: string,
    options: { replyTo?: string },
  ): Promise<{ replyTo?: NonNullable<ChatMessage["replyTo"]> }> {
    if (!options.replyTo) return {};
    const target = await this.#ctx.chats.getMessage(chatId, options.replyTo);
    if (!target || target.deleted || target.kind === "system")
      throw new SdkError("not-found", "the message to reply to is not in this chat");
    return {
      replyTo: { id: target.id, from: target.from, fromUserId: target.fromUserId, text: snippetOf(target) },
    };
  }

  async #requireMessage(chatId: string, id: string): Promise<StoredMessage> {
    await this.#chatList.requireChat(chatId);
    const m = await this.#ctx.chats.getMessage(chatId, id);
    if (!m || m.kind === "system") throw new SdkError("not-found", "no such message in this chat");
    return m;
  }

  /** Toggles this user's reaction with `emoji` (any emoji) on a message; returns whether it is now on. */
  async react(chatId: string, messageId: string, emoji: string): Promise<boolean> {
    if (!isReactionEmoji(emoji)) throw new SdkError("bad-request", "a reaction is one emoji");
    const m = await this.#requireMessage(chatId, messageId);
    if (m.deleted) throw new SdkError("bad-request", "a deleted message cannot be reacted to");
    const on = !(m.reactions?.[emoji] ?? []).includes(this.#ctx.enrolment.userId);
    await this.#apply(chatId, { v: 1, type: "reaction", id: newMessageId(), target: messageId, emoji, on });
    return on;
  }

  /** Changes the text of one of this user's messages, for everyone; it shows as edited. */
  async edit(chatId: string, messageId: string, text: string): Promise<ChatMessage> {
    if (text.trim().length === 0) throw new SdkError("bad-request", "cannot edit a message to nothing");
    checkTextLength(text);
    const m = await this.#requireMessage(chatId, messageId);
    if (!m.outgoing || m.deleted || (m.kind !== "text" && m.kind !== "file"))
      throw new SdkError("bad-request", "only your own text messages can be edited");
    return this.#apply(chatId, { v: 1, type: "edit", id: newMessageId(), target: messageId, text });
  }

  /** Deletes one of this user's messages on every device of every member ("message deleted"). */
  async deleteForEveryone(chatId: string, messageId: string): Promise<ChatMessage> {
    const m = await this.#requireMessage(chatId, messageId);
    if (!m.outgoing) throw new SdkError("bad-request", "only your own messages can be deleted for everyone");
    if (m.deleted) return publicView(m);
    return this.#apply(chatId, { v: 1, type: "delete", id: newMessageId(), target: messageId });
  }

  /** Removes a message from this device only. */
  async deleteLocally(chatId: string, messageId: string): Promise<void> {
    await this.#ctx.storage.delete(StorageKeys.file(chatId, messageId));
    if (await this.#ctx.chats.removeMessage(chatId, messageId)) {
      this.#ctx.events.emit("message-removed", { chat: chatId, id: messageId });
      void this.#chatList.emitChat(chatId);
    }
  }

  /**
   * Forwards a message (text, sticker or file) to another chat, marked as forwarded. A file whose blob
   * the server has already let go (every recipient fetched it) is uploaded again from this device's copy.
   */
  async forward(fromChatId: string, messageId: string, toChatOrUsername: string): Promise<ChatMessage> {
    const m = await this.#requireMessage(fromChatId, messageId);
    const body = forwardable(m);
    const to = await this.#chatFor(toChatOrUsername);
    await this.#chatList.requireChat(to.id);
    const sent = await this.#sender.appendOutgoing(to.id, body);
    try {
      return await this.#sender.deliverOutgoing(sent);
    } catch (error) {
      const gone = error instanceof SdkError && (error.code === "not-found" || error.code === "forbidden");
      const copy =
        gone && m.fileRef ? await this.#ctx.storage.get(StorageKeys.file(fromChatId, messageId)) : undefined;
      if (!copy || !m.fileRef) throw error;
      // Same message, a fresh blob: the failed attempt does not stay behind as a duplicate.
      const fileRef = { ...m.fileRef, ...(await this.#uploadCopy(copy)) };
      await this.#ctx.chats.updateMessage(to.id, sent.id, { fileRef });
      return this.#sender.deliverOutgoing(sent);
    }
  }

  /**
   * Tells the chat this user is typing (`true`) or stopped (`false`). Does nothing when typing
   * indicators are off in settings; repeated `true` calls are sent at most every 3 seconds.
   */
  async setTyping(chatId: string, typing: boolean): Promise<void> {
    if (!(await loadSettings(this.#ctx.storage)).typingIndicators) return;
    await this.#chatList.requireChat(chatId);
    const last = this.#typingSent.get(chatId);
    if (typing && last !== undefined && Date.now() - last < TYPING_THROTTLE_MS) return;
    if (!typing && last === undefined) return;
    if (typing) this.#typingSent.set(chatId, Date.now());
    else this.#typingSent.delete(chatId);
    await this.#sender.sendContent(
      chatId,
      { v: 1, type: "typing", id: newMessageId(), on: typing },
      { whenBlocked: "skip" },
    );
  }

  /**
   * A message ends "typing" for its readers, so the next keystroke must announce typing again at once
   * rather than wait out the throttle of the one before.
   */
  messageSent(chatId: string): void {
    this.#typingSent.delete(chatId);
  }

  /** Applies a reaction, edit or deletion locally, then sends it. */
  async #apply(chatId: string, content: Change): Promise<ChatMessage> {
    const updated = await this.#ctx.mutex.run(() =>
      this.onChange(chatId, this.#ctx.enrolment.userId, content),
    );
    await this.#sender.sendContent(chatId, content);
    if (!updated) throw new SdkError("not-found", "no such message in this chat");
    return updated;
  }

  /** A reaction, edit or deletion from `senderId` (this user's or another member's). */
  async onChange(chat: string, senderId: string, content: Change): Promise<ChatMessage | undefined> {
    const { chats, storage, events } = this.#ctx;
    const m = await chats.getMessage(chat, content.target);
    if (!m || m.kind === "system") return undefined;
    const patch = changePatch(m, senderId, content);
    if (patch === "forged") {
      this.#ctx.warn("forged-change", "ignored an edit or deletion of someone else's message");
      return undefined;
    }
    if (!patch) return undefined;
    if (content.type === "delete") await storage.delete(StorageKeys.file(chat, m.id));
    const next = await chats.updateMessage(chat, m.id, patch);
    if (!next) return undefined;
    const view = publicView(next);
    events.emit("message-updated", view);
    void this.#chatList.emitChat(chat);
    return view;
  }
}

/** "too-large" beyond MAX_TEXT_CHARS. */
export function checkTextLength(text: string, what = "a message"): void {
  if (text.length > MAX_TEXT_CHARS)
    throw new SdkError(
      "too-large",
      `${what} can have at most ${MAX_TEXT_CHARS.toLocaleString("en")} characters`,
    );
}

/** What a forwarded copy of a message carries: its payload, marked as forwarded. */
function forwardable(m: StoredMessage): UserMessageBody {
  if (m.deleted) throw new SdkError("bad-request", "a deleted message cannot be forwarded");
  const base = { text: m.text, forwarded: true };
  switch (m.kind) {
    case "text":
      return { ...base, kind: "text" };
    case "sticker":
      return { ...base, kind: "sticker", sticker: m.sticker, ...(m.fileRef ? { fileRef: m.fileRef } : {}) };
    case "file":
      return { ...base, kind: "file", file: m.file, ...(m.fileRef ? { fileRef: m.fileRef } : {}) };
    case "sticker-pack":
      if (m.packManifest)
        return { ...base, kind: "sticker-pack", stickerPack: m.stickerPack, packManifest: m.packManifest };
      break;
    default:
      break;
  }
  throw new SdkError("bad-request", `a ${m.kind} message cannot be forwarded`);
}
