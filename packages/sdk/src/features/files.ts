import { toBase64 } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import type { ChatList, ChatSummary } from "../groups/chat-list.ts";
import { MAX_FILE_NAME_CHARS, MAX_MIME_CHARS, MAX_THUMBNAIL_BASE64_CHARS } from "../limits.ts";
import {
  type ChatMessage,
  type FileRefStored,
  publicView,
  type StoredMessage,
} from "../messages/chat-store.ts";
import { isExpired } from "../messages/expiry.ts";
import { checkTextLength } from "../messages/message-actions.ts";
import type { MessageSender } from "../messages/message-sender.ts";
import { isMessageId, newMessageId } from "../messages/message-id.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import {
  decryptAttachment,
  downloadBlob,
  encryptAttachment,
  type FileInput,
  releaseBlob,
  type TransferProgress,
  uploadBlob,
} from "./attachments.ts";

export type FilesDeps = {
  chatList: ChatList;
  sender: MessageSender;
  chatFor(chatOrUsername: string): Promise<ChatSummary>;
  replyOf(
    chatId: string,
    options: { replyTo?: string },
  ): Promise<{ replyTo?: NonNullable<ChatMessage["replyTo"]> }>;
  expiresAt(at: number): void;
};

/** How a file is sent: its caption, the message it answers, the caller's id (idempotent), progress. */
export type SendFileOptions = {
  caption?: string;
  replyTo?: string;
  id?: string;
  onProgress?: (p: TransferProgress) => void;
};

/**
 * Attachments: encrypted on this device with a fresh key, uploaded in resumable chunks, announced in an
 * MLS message with the key and hash; downloads are checked, decrypted and kept on the device.
 */
export class Files {
  readonly #ctx: DeviceContext;
  readonly #deps: FilesDeps;

  constructor(ctx: DeviceContext, deps: FilesDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** Encrypts and uploads bytes as a blob; returns where it is and how to open it. */
  async upload(
    bytes: Uint8Array,
    onProgress?: (p: TransferProgress) => void,
  ): Promise<{ blobId: string; key: string; hash: string }> {
    const { blob, key, hash } = await encryptAttachment(bytes);
    const blobId = await uploadBlob(
      this.#ctx.enrolment.serverUrl,
      this.#ctx.enrolment.token,
      blob,
      onProgress,
    );
    return { blobId, key, hash };
  }

  /** Downloads, checks and decrypts a blob (without keeping it). */
  async fetch(
    ref: Pick<FileRefStored, "blobId" | "key" | "hash">,
    onProgress?: (p: TransferProgress) => void,
  ): Promise<Uint8Array> {
    const blob = await downloadBlob(
      this.#ctx.enrolment.serverUrl,
      this.#ctx.enrolment.token,
      ref.blobId,
      onProgress,
    );
    return decryptAttachment(blob, ref.key, ref.hash);
  }

  /**
   * Sends a file (image, voice message, anything up to the server's limit): encrypted here with a
   * fresh AES-256-GCM key, uploaded in resumable chunks (`transfer` events and `onProgress`), then
   * announced in an MLS message carrying the key and hash. The message shows as "sending" meanwhile.
   */
  async send(chatOrUsername: string, file: FileInput, options: SendFileOptions = {}): Promise<ChatMessage> {
    const { chats, storage, events, enrolment } = this.#ctx;
    if (options.id !== undefined && !isMessageId(options.id))
      throw new SdkError("bad-request", "a message id is 16 to 43 base64url characters (see newMessageId)");
    const name = file.name.replace(/[\\/]/g, "_").slice(0, MAX_FILE_NAME_CHARS) || "file";
    checkTextLength(options.caption ?? "", "a caption");
    const thumbnail = file.thumbnail ? toBase64(file.thumbnail) : undefined;
    if (thumbnail && thumbnail.length > MAX_THUMBNAIL_BASE64_CHARS)
      throw new SdkError("too-large", "a thumbnail can be at most 15 KB");
    const chat = await this.#deps.chatFor(chatOrUsername);
    await this.#deps.chatList.requireChat(chat.id);
    if (options.id !== undefined) {
      const existing = await chats.getMessage(chat.id, options.id);
      if (existing) return this.#again(existing, file.bytes);
    }
    const info = {
      name,
      mime: (file.mime ?? "application/octet-stream").slice(0, MAX_MIME_CHARS),
      size: file.bytes.length,
      ...(thumbnail ? { thumbnail } : {}),
      ...(file.width ? { width: Math.round(file.width) } : {}),
      ...(file.height ? { height: Math.round(file.height) } : {}),
      ...(file.durationS !== undefined ? { durationS: file.durationS } : {}),
      ...(file.voice ? { voice: true } : {}),
    };
    const timer = chat.timer;
    const now = Date.now();
    const message = await chats.append(
      {
        id: options.id ?? newMessageId(),
        chat: chat.id,
        from: enrolment.username,
        fromUserId: enrolment.userId,
        kind: "file",
        text: options.caption ?? "",
        file: info,
        ...(await this.#deps.replyOf(chat.id, options)),
        ...(timer > 0 ? { expiresIn: timer, expiresAt: now + timer * 1000 } : {}),
        sentAt: now,
        outgoing: true,
        status: "sending",
      },
      { feed: false, unread: false },
    );
    // The sender keeps the plaintext: the server's copy goes once the recipients have it.
    await storage.put(StorageKeys.file(chat.id, message.id), file.bytes);
    events.emit("message", message);
    if (message.expiresAt !== undefined) this.#deps.expiresAt(message.expiresAt);
    try {
      const ref = await this.upload(file.bytes, (p) => {
        options.onProgress?.(p);
        events.emit("transfer", { chat: chat.id, id: message.id, direction: "up", ...p });
      });
      await chats.updateMessage(chat.id, message.id, { fileRef: { ...ref, ...info } });
    } catch (error) {
      await this.#deps.sender.setStatus(chat.id, message.id, "failed");
      throw error;
    }
    return this.#deps.sender.deliverOutgoing(message);
  }

  /**
   * A file message sent before under the caller's id (an idempotent send): returned as it is, or
   * finished, from the kept copy, where a crash or failure left it unsent.
   */
  async #again(m: StoredMessage, bytes: Uint8Array): Promise<ChatMessage> {
    if (!m.outgoing) throw new SdkError("conflict", "a message of someone else in this chat has that id");
    if (m.kind !== "file") throw new SdkError("conflict", "a message of another kind has that id");
    if (m.status !== "sending" && m.status !== "failed") return publicView(m);
    if (!m.fileRef) {
      // A crash between storing the message and its copy leaves no copy: the caller's bytes are it.
      const key = StorageKeys.file(m.chat, m.id);
      if (!(await this.#ctx.storage.get(key))) await this.#ctx.storage.put(key, bytes);
      await this.uploadAgain(m.chat, m);
    }
    // Sent again under its id: if the server had it already, it answers as for a duplicate.
    return this.#deps.sender.deliverOutgoing(m);
  }

  /** A failed file message whose upload never finished: encrypts and uploads it again from the kept copy. */
  async uploadAgain(chatId: string, m: StoredMessage): Promise<void> {
    const bytes = await this.#ctx.storage.get(StorageKeys.file(chatId, m.id));
    if (!bytes || !m.file)
      throw new SdkError("not-found", "the file is no longer on this device; send it again");
    const ref = await this.upload(bytes, (p) =>
      this.#ctx.events.emit("transfer", { chat: chatId, id: m.id, direction: "up", ...p }),
    );
    await this.#ctx.chats.updateMessage(chatId, m.id, { fileRef: { ...ref, ...m.file } });
  }

  /**
   * The decrypted bytes of a file message: from this device's storage, or downloaded (resumable,
   * `transfer` events), checked against its hash, decrypted and kept for next time.
   */
  async download(
    chatId: string,
    messageId: string,
    options: { onProgress?: (p: TransferProgress) => void; keep?: boolean } = {},
  ): Promise<Uint8Array> {
    const { chats, storage, events } = this.#ctx;
    const cached = await storage.get(StorageKeys.file(chatId, messageId));
    if (cached) return cached;
    const m = await chats.getMessage(chatId, messageId);
    if (!m || !m.fileRef || m.deleted || isExpired(m))
      throw new SdkError("not-found", "no such file message on this device");
    const bytes = await this.fetch(m.fileRef, (p) => {
      options.onProgress?.(p);
      events.emit("transfer", { chat: chatId, id: messageId, direction: "down", ...p });
    });
    // Unless it disappeared or was deleted meanwhile.
    if (options.keep !== false && (await chats.getMessage(chatId, messageId)))
      await storage.put(StorageKeys.file(chatId, messageId), bytes);
    await this.release(m.fileRef.blobId);
    return bytes;
  }

  /** The server may drop its copy of a blob this device now keeps itself (best effort: retention covers failures). */
  async release(blobId: string): Promise<void> {
    await releaseBlob(this.#ctx.enrolment.serverUrl, this.#ctx.enrolment.token, blobId).catch(
      () => undefined,
    );
  }
}
