import { type ReactNode, useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { Sticker } from "../emoticons/sticker.tsx";
import { imageBlobUrl } from "../lib/media-type.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./user-sticker.css";

/**
 * Object URLs of sticker images by "pack/id" (null: the bytes are not a raster image), kept for the
 * page's life: a sticker is small and shown again and again (in the picker and in chats), and there
 * are at most a few hundred.
 */
const urls = new Map<string, Promise<string | null>>();

function imageUrl(key: string, load: () => Promise<Uint8Array>): Promise<string | null> {
  let url = urls.get(key);
  if (!url) {
    // The pack's maker chose the bytes and their claimed type: only what sniffs as a raster image shows.
    url = load().then(imageBlobUrl);
    // A failed load is not cached: the next view tries again.
    url.catch(() => urls.delete(key));
    urls.set(key, url);
  }
  return url;
}

/**
 * A sticker from a user-made pack: its image from the pack on this device, or, for a pack not
 * added here, the encrypted copy that travels with the sticker message. Bytes that are not a raster
 * image (an SVG, say) show as the placeholder of a sticker this app cannot show.
 */
export function UserSticker({
  pack,
  id,
  from,
  size = 120,
}: {
  pack: string;
  id: string;
  /** The message that carried it, to fetch its own copy of the image if the pack is not here. */
  from?: { chat: string; messageId: string };
  size?: number;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const [src, setSrc] = useState<string | null | "not-an-image">(null);
  const fromChat = from?.chat;
  const fromMessage = from?.messageId;

  useEffect(() => {
    let cancelled = false;
    imageUrl(`${pack}/${id}`, async () => {
      const own = await client.stickerImage(pack, id).catch(() => undefined);
      if (own) return own;
      if (fromChat && fromMessage) return client.downloadFile(fromChat, fromMessage);
      throw new Error("sticker image not on this device");
    })
      .then((u) => !cancelled && setSrc(u ?? "not-an-image"))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [client, pack, id, fromChat, fromMessage]);

  if (src === "not-an-image") return <Sticker pack={pack} id={id} />;
  return src ? (
    <img
      className="sticker user-sticker"
      data-testid="sticker"
      data-sticker={`${pack}/${id}`}
      src={src}
      alt={t("pack.stickerLoading")}
      width={size}
      height={size}
    />
  ) : (
    <span
      className="sticker user-sticker loading"
      data-testid="sticker-loading"
      style={{ width: size, height: size }}
      role="img"
      aria-label={t("pack.stickerLoading")}
    />
  );
}
