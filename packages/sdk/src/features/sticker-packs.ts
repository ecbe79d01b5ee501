import { SdkError } from "../errors.ts";
import type { StickerPackManifest } from "../messages/content.ts";
import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";

/** A sticker pack on this device: made here or added from a chat. Images are in storage. */
export type StickerPack = {
  id: string;
  name: string;
  stickers: { id: string; mime: string }[];
  /** Made on this device (false: added from a chat). */
  own: boolean;
};

/** The built-in emoticon set; its images ship with the apps. */
export const BUILT_IN_PACK = "sori";
const MAX_STICKERS = 100;
/** Largest sticker image, in bytes. */
export const MAX_STICKER_BYTES = 512 * 1024;

/** Sticker packs kept in a device's storage (the manifests offered in chats and the installed packs). */
export class StickerPacks {
  readonly #storage: ClientStorage;

  constructor(storage: ClientStorage) {
    this.#storage = storage;
  }

  async list(): Promise<StickerPack[]> {
    const out: StickerPack[] = [];
    for (const key of await this.#storage.list(StorageKeys.stickerPacks)) {
      const p = await getJson<StickerPack>(this.#storage, key);
      if (p) out.push(p);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): Promise<StickerPack | undefined> {
    return getJson<StickerPack>(this.#storage, StorageKeys.stickerPack(id));
  }

  async install(pack: StickerPack, images: Map<string, Uint8Array>): Promise<void> {
    // Images first: a pack is listed only once all its images are there.
    for (const s of pack.stickers) {
      const bytes = images.get(s.id);
      if (!bytes) throw new SdkError("bad-request", `sticker ${s.id} has no image`);
      await this.#storage.put(StorageKeys.stickerImage(pack.id, s.id), bytes);
    }
    await putJson(this.#storage, StorageKeys.stickerPack(pack.id), pack);
  }

  async remove(id: string): Promise<void> {
    await this.#storage.delete(StorageKeys.stickerPack(id));
    for (const key of await this.#storage.list(StorageKeys.stickerImages(id)))
      await this.#storage.delete(key);
  }

  image(pack: string, id: string): Promise<Uint8Array | undefined> {
    return this.#storage.get(StorageKeys.stickerImage(pack, id));
  }

  /** Remembers a pack shared in a chat (its manifest holds the blobs' keys) until it is added. */
  putOffer(chat: string, message: string, manifest: StickerPackManifest): Promise<void> {
    return putJson(this.#storage, StorageKeys.stickerOffer(chat, message), manifest);
  }

  getOffer(chat: string, message: string): Promise<StickerPackManifest | undefined> {
    return getJson<StickerPackManifest>(this.#storage, StorageKeys.stickerOffer(chat, message));
  }
}

/** Checks sticker images before a pack is made. */
export function checkStickerImages(images: { bytes: Uint8Array; mime: string }[]): void {
  if (images.length === 0 || images.length > MAX_STICKERS)
    throw new SdkError("bad-request", `a pack has 1 to ${MAX_STICKERS} stickers`);
  for (const img of images) {
    if (!img.mime.startsWith("image/")) throw new SdkError("bad-request", "stickers are images");
    if (img.bytes.length > MAX_STICKER_BYTES)
      throw new SdkError("too-large", `a sticker image can be at most ${MAX_STICKER_BYTES / 1024} KB`, {
        limit: MAX_STICKER_BYTES,
      });
  }
}
