import type { MemberIdentity } from "@sori/crypto";
import type { CallHistory } from "../calls/call-history.ts";
import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import type { Contacts } from "../features/contacts.ts";
import type { PhoneLines } from "../features/phone-lines.ts";
import type { Profiles } from "../features/profiles.ts";
import type { Stickers } from "../features/stickers.ts";
import type { Timers } from "../features/timers.ts";
import type { ChatList } from "../groups/chat-list.ts";
import type { Membership } from "../groups/membership.ts";
import type { Content, FileRef } from "./content.ts";
import type { ChatMessage } from "./chat-store.ts";
import type { MessageActions } from "./message-actions.ts";
import type { UserMessageBody } from "./message-sender.ts";
import { snippetOf, TYPING_FRESH_MS } from "./message-features.ts";
import { shownTime } from "./sender-order.ts";
import type { Receipts } from "./receipts.ts";

export type ContentHandlerDeps = {
  directory: Directory;
  chatList: ChatList;
  membership: Membership;
  receipts: Receipts;
  actions: MessageActions;
  profiles: Profiles;
  phoneLines: PhoneLines;
  contacts: Contacts;
  timers: Timers;
  stickers: Stickers;
  callHistory: CallHistory;
  /** A call signal that came the durable way (normally they are relays). */
  callSignal(
    chat: string,
    sender: MemberIdentity,
    content: Extract<Content, { type: "call" }>,
    sentAt: number,
  ): void;
  expiresAt(at: number): void;
};

/**
 * What each kind of decrypted content does on this device. The sender is MLS-authenticated; content
 * from this user's own other devices is "mine" (outgoing, no receipt, no unread count).
 */
export class ContentHandler {
  readonly #ctx: DeviceContext;
  readonly #deps: ContentHandlerDeps;

  constructor(ctx: DeviceContext, deps: ContentHandlerDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** `serverTime` is when the server took the message; contents that carry the sender's time show that one. */
  #quote(
    chat: string,
    claimed: { id: string; fromUserId: string; text: string },
  ): Promise<NonNullable<ChatMessage["replyTo"]>> {
    return quoteOf(this.#ctx.chats, this.#deps.directory, chat, claimed);
  }

  async handle(
    chat: string,
    senderId: string,
    serverTime: number,
    content: Content,
    senderDevice: string,
  ): Promise<void> {
    const { chats, events, enrolment } = this.#ctx;
    const d = this.#deps;
    const mine = senderId === enrolment.userId;
    const sentAt =
      "sentAt" in content && typeof content.sentAt === "number"
        ? shownTime(content.sentAt, serverTime)
        : serverTime;
    switch (content.type) {
      case "meta": {
        const rec = await chats.getChat(chat);
        if (rec) {
          await chats.putChat({ ...rec, kind: content.kind, name: content.name ?? rec.name });
          await d.chatList.emitChat(chat);
        }
        return;
      }
      case "receipt":
        if (!mine) for (const id of content.ids) await d.receipts.onReceipt(chat, id, senderId);
        return;
      case "undelivered":
        if (!mine) {
          const username = await d.directory.usernameOf(senderId);
          await d.receipts.onUndelivered(chat, content.ids, { userId: senderId, username }, content.reason);
        }
        return;
      case "profile":
        await d.profiles.onProfile(senderId, content);
        return;
      case "sip-line":
        await d.phoneLines.onChange(chat, senderId, content.change);
        return;
      case "contact":
        await d.contacts.onContent(chat, senderId, content);
        return;
      case "leave":
        if (mine) {
          // This user left from another device.
          await d.membership.deactivate(chat);
        } else {
          this.#ctx.later(() => d.membership.removeUser(chat, senderId));
        }
        return;
      case "call":
        // Normally transient (see Inbox.relay); one that came the durable way is handled the same.
        d.callSignal(chat, { userId: senderId, deviceId: senderDevice }, content, sentAt);
        return;
      case "call-log":
        await d.callHistory.append(chat, senderId, sentAt, content);
        return;
      case "text":
      case "sticker":
      case "file": {
        const replyTo = content.replyTo && (await this.#quote(chat, content.replyTo));
        const message = await chats.append(
          {
            id: content.id,
            chat,
            from: await d.directory.usernameOf(senderId),
            fromUserId: senderId,
            ...payloadOf(content),
            ...(replyTo ? { replyTo } : {}),
            ...(content.forwarded ? { forwarded: true } : {}),
            // The sender's own other devices count it as read at once; others start the timer on reading.
            ...(content.expiresIn
              ? {
                  expiresIn: content.expiresIn,
                  ...(mine ? { expiresAt: sentAt + content.expiresIn * 1000 } : {}),
                }
              : {}),
            sentAt,
            outgoing: mine,
            status: mine ? "sent" : "delivered",
          },
          { feed: !mine, unread: !mine },
        );
        if (!mine) d.receipts.queue(chat, content.id);
        events.emit("message", message);
        if (message.expiresAt !== undefined) d.expiresAt(message.expiresAt);
        void d.chatList.emitChat(chat);
        return;
      }
      case "reaction":
      case "edit":
      case "delete":
        await d.actions.onChange(chat, senderId, content);
        return;
      case "read":
        if (!mine) await d.receipts.onRead(chat, senderId, content.upTo);
        return;
      case "typing":
        if (!mine && Date.now() - serverTime < TYPING_FRESH_MS)
          events.emit("typing", {
            chat,
            userId: senderId,
            username: await d.directory.usernameOf(senderId),
            typing: content.on,
          });
        return;
      case "timer":
        await d.timers.apply(chat, senderId, content.seconds, content.id, sentAt);
        return;
      case "sticker-pack":
        await d.stickers.onShared(chat, senderId, await d.directory.usernameOf(senderId), sentAt, content);
        return;
    }
  }
}

/**
 * A reply's quote as this device shows it: from its own copy of the quoted message when it has one
 * (a quote carries its own author and text, which a sender could make up), marked when they differ.
 */
async function quoteOf(
  chats: DeviceContext["chats"],
  directory: Directory,
  chat: string,
  claimed: { id: string; fromUserId: string; text: string },
): Promise<NonNullable<ChatMessage["replyTo"]>> {
  const original = await chats.getMessage(chat, claimed.id);
  if (!original || original.kind === "system" || original.deleted) {
    return { ...claimed, from: await directory.usernameOf(claimed.fromUserId) };
  }
  const own = {
    id: original.id,
    from: original.from,
    fromUserId: original.fromUserId,
    text: snippetOf(original),
  };
  const differs = claimed.fromUserId !== own.fromUserId || claimed.text !== own.text;
  return differs ? { ...own, mismatch: true } : own;
}

/** What a received text, sticker or file message carries, as stored. */
function payloadOf(content: Extract<Content, { type: "text" | "sticker" | "file" }>): UserMessageBody {
  switch (content.type) {
    case "text":
      return { kind: "text", text: content.text };
    case "sticker":
      return {
        kind: "sticker",
        text: "",
        sticker: { pack: content.pack, id: content.sticker },
        ...(content.file ? { fileRef: content.file } : {}),
      };
    case "file":
      return {
        kind: "file",
        text: content.text ?? "",
        file: fileInfoOf(content.file),
        fileRef: content.file,
      };
  }
}

function fileInfoOf(f: FileRef): NonNullable<ChatMessage["file"]> {
  return {
    name: f.name,
    mime: f.mime,
    size: f.size,
    ...(f.thumbnail ? { thumbnail: f.thumbnail } : {}),
    ...(f.width ? { width: f.width } : {}),
    ...(f.height ? { height: f.height } : {}),
    ...(f.durationS !== undefined ? { durationS: f.durationS } : {}),
    ...(f.voice ? { voice: true } : {}),
  };
}
