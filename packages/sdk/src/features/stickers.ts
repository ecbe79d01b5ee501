import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import type { ChatList } from "../groups/chat-list.ts";
import { MAX_PACK_NAME_CHARS } from "../limits.ts";
import type { ChatMessage, StoredMessage } from "../messages/chat-store.ts";
import type { Content } from "../messages/content.ts";
import type { MessageSender } from "../messages/message-sender.ts";
import { newMessageId } from "../messages/message-id.ts";
import type { Files } from "./files.ts";
import { BUILT_IN_PACK, checkStickerImages, type StickerPack, StickerPacks } from "./sticker-packs.ts";

const STICKER_PART = /^[\w.-]{1,64}$/;

export type StickersDeps = {
  chatList: ChatList;
  sender: MessageSender;
  files: Files;
  replyOf(
    chatId: string,
    options: { replyTo?: string },
  ): Promise<{ replyTo?: NonNullable<ChatMessage["replyTo"]> }>;
};

/**
 * Stickers and sticker packs: the built-in set, packs made on this device from images, and packs shared
 * in chats (their images travel as encrypted blobs, their manifest inside MLS).
 */
export class Stickers {
  readonly #ctx: DeviceContext;
  readonly #packs: StickerPacks;
  readonly #deps: StickersDeps;

  constructor(ctx: DeviceContext, deps: StickersDeps) {
    this.#ctx = ctx;
    this.#packs = new StickerPacks(ctx.storage);
    this.#deps = deps;
  }

  /** Sends a sticker, e.g. `{ pack: "sori", id: "hello" }` from the built-in set. */
  async send(
    chatId: string,
    sticker: { pack: string; id: string },
    options: { replyTo?: string } = {},
  ): Promise<ChatMessage> {
    if (!STICKER_PART.test(sticker.pack) || !STICKER_PART.test(sticker.id)) {
      throw new SdkError(
        "bad-request",
        "a sticker needs a pack and an id of letters, digits, '_', '.' or '-'",
      );
    }
    await this.#deps.chatList.requireChat(chatId);
    // A user-made pack's image travels with the sticker (as an encrypted blob), so everyone sees it.
    let fileRef: StoredMessage["fileRef"];
    if (sticker.pack !== BUILT_IN_PACK) {
      const pack = await this.#packs.get(sticker.pack);
      const image = await this.#packs.image(sticker.pack, sticker.id);
      const meta = pack?.stickers.find((s) => s.id === sticker.id);
      if (!pack || !image || !meta)
        throw new SdkError("not-found", "that sticker is not in a pack on this device");
      const ref = await this.#deps.files.upload(image);
      fileRef = { ...ref, name: `${sticker.id}`, mime: meta.mime, size: image.length };
    }
    return this.#deps.sender.sendUserMessage(chatId, {
      kind: "sticker",
      text: "",
      sticker,
      ...(fileRef ? { fileRef } : {}),
      ...(await this.#deps.replyOf(chatId, options)),
    });
  }

  /** Sticker packs on this device (made here or added from chats); the built-in one is not listed. */
  list(): Promise<StickerPack[]> {
    return this.#packs.list();
  }

  /** The image of a sticker of an installed pack (undefined for the built-in pack and unknown ones). */
  image(packId: string, stickerId: string): Promise<Uint8Array | undefined> {
    return this.#packs.image(packId, stickerId);
  }

  /** Removes a sticker pack from this device. */
  remove(packId: string): Promise<void> {
    return this.#packs.remove(packId);
  }

  /** Makes a sticker pack on this device from images (≤ 512 KB each, 1–100). */
  async create(name: string, images: { bytes: Uint8Array; mime: string }[]): Promise<StickerPack> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_PACK_NAME_CHARS)
      throw new SdkError("bad-request", `a pack name needs 1 to ${MAX_PACK_NAME_CHARS} characters`);
    checkStickerImages(images);
    const pack: StickerPack = {
      id: newMessageId(),
      name: trimmed,
      stickers: images.map((img, i) => ({ id: `s${i + 1}`, mime: img.mime })),
      own: true,
    };
    await this.#packs.install(pack, new Map(images.map((img, i) => [`s${i + 1}`, img.bytes])));
    return pack;
  }

  /** Shares an installed pack in a chat: its images as encrypted blobs, its manifest in a message. */
  async share(chatId: string, packId: string): Promise<ChatMessage> {
    await this.#deps.chatList.requireChat(chatId);
    const pack = await this.#packs.get(packId);
    if (!pack) throw new SdkError("not-found", "no such sticker pack on this device");
    const stickers: NonNullable<StoredMessage["packManifest"]>["stickers"] = [];
    for (const s of pack.stickers) {
      const image = await this.#packs.image(pack.id, s.id);
      if (!image) throw new SdkError("storage", "a sticker image of this pack is missing");
      const ref = await this.#deps.files.upload(image);
      stickers.push({ id: s.id, file: { ...ref, name: s.id, mime: s.mime, size: image.length } });
    }
    return this.#deps.sender.sendUserMessage(chatId, {
      kind: "sticker-pack",
      text: "",
      stickerPack: { id: pack.id, name: pack.name, count: pack.stickers.length },
      packManifest: { id: pack.id, name: pack.name, stickers },
    });
  }

  /** Adds a pack someone shared in a chat (the message of kind "sticker-pack"): downloads its images. */
  async add(chatId: string, messageId: string): Promise<StickerPack> {
    const m = await this.#ctx.chats.getMessage(chatId, messageId);
    const manifest = m?.packManifest ?? (await this.#packs.getOffer(chatId, messageId));
    if (!manifest) throw new SdkError("not-found", "no shared sticker pack in that message");
    const installed = await this.#packs.get(manifest.id);
    if (installed) return installed;
    const images = new Map<string, Uint8Array>();
    for (const s of manifest.stickers) images.set(s.id, await this.#deps.files.fetch(s.file));
    for (const s of manifest.stickers) await this.#deps.files.release(s.file.blobId);
    const pack: StickerPack = {
      id: manifest.id,
      name: manifest.name,
      stickers: manifest.stickers.map((s) => ({ id: s.id, mime: s.file.mime })),
      own: false,
    };
    await this.#packs.install(pack, images);
    return pack;
  }

  /** A pack was shared in a chat: remember its manifest and show it in the history. */
  async onShared(
    chat: string,
    senderId: string,
    from: string,
    sentAt: number,
    content: Extract<Content, { type: "sticker-pack" }>,
  ): Promise<void> {
    const { chats, events, enrolment } = this.#ctx;
    const mine = senderId === enrolment.userId;
    await this.#packs.putOffer(chat, content.id, content.pack);
    const message = await chats.append(
      {
        id: content.id,
        chat,
        from,
        fromUserId: senderId,
        kind: "sticker-pack",
        text: "",
        stickerPack: { id: content.pack.id, name: content.pack.name, count: content.pack.stickers.length },
        packManifest: content.pack,
        sentAt,
        outgoing: mine,
        status: mine ? "sent" : "delivered",
      },
      { feed: false, unread: !mine },
    );
    events.emit("message", message);
    void this.#deps.chatList.emitChat(chat);
  }
}
