import { type ReactNode, useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import "./user-sticker.css";

/**
 * Object URLs of sticker images by "pack/id", kept for the page's life: a sticker is small and
 * shown again and again (in the picker and in chats), and there are at most a few hundred.
 */
const urls = new Map<string, Promise<string>>();

function imageUrl(key: string, load: () => Promise<Uint8Array>, mime: string): Promise<string> {
  let url = urls.get(key);
  if (!url) {
    url = load().then((bytes) => URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: mime })));
    // A failed load is not cached: the next view tries again.
    url.catch(() => urls.delete(key));
    urls.set(key, url);
  }
  return url;
}

/**
 * A sticker from a user-made pack: its image from the pack on this device, or, for a pack not
 * added here, the encrypted copy that travels with the sticker message.
 */
export function UserSticker({
  pack,
  id,
  mime = "image/png",
  from,
  size = 120,
}: {
  pack: string;
  id: string;
  mime?: string;
  /** The message that carried it, to fetch its own copy of the image if the pack is not here. */
  from?: { chat: string; messageId: string };
  size?: number;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const [src, setSrc] = useState<string | null>(null);
  const fromChat = from?.chat;
  const fromMessage = from?.messageId;

  useEffect(() => {
    let cancelled = false;
    imageUrl(
      `${pack}/${id}`,
      async () => {
        const own = await client.stickerImage(pack, id).catch(() => undefined);
        if (own) return own;
        if (fromChat && fromMessage) return client.downloadFile(fromChat, fromMessage);
        throw new Error("sticker image not on this device");
      },
      mime,
    )
      .then((u) => !cancelled && setSrc(u))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [client, pack, id, mime, fromChat, fromMessage]);

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
