import { MAX_STICKER_BYTES } from "@sori/sdk";
import { type FormEvent, type ReactNode, useEffect, useId, useState } from "react";
import { notifyStickerPacksChanged } from "../hooks/use-sticker-packs.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import { DialogFormFooter } from "./dialog-form-footer.tsx";
import { useToast } from "./toast-provider.tsx";
import { decodeImage } from "../lib/decode-image.ts";
import { blobUrlOf, isImageType, sniffMediaType } from "../lib/media-type.ts";
import "./sticker-pack-dialog.css";

/** Longest side of a sticker made smaller to fit the size limit. */
const STICKER_PX = 512;
const MAX_IMAGES = 100;

type Picked = { name: string; bytes: Uint8Array; mime: string; url: string };

/**
 * An image as a sticker: kept as it is when it is a raster image small enough (animated GIFs stay
 * animated), else drawn and re-encoded (an SVG becomes a WebP, if the browser can draw it at all), so
 * the others are only ever sent what they will show.
 */
async function toSticker(file: File): Promise<Picked | null> {
  if (!file.type.startsWith("image/")) return null;
  const original = new Uint8Array(await file.arrayBuffer());
  const type = sniffMediaType(original);
  if (isImageType(type) && original.length <= MAX_STICKER_BYTES)
    return { name: file.name, bytes: original, mime: type, url: blobUrlOf(original) };
  const bitmap = await decodeImage(file);
  if (!bitmap) return null;
  try {
    const scale = Math.min(1, STICKER_PX / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(
      Math.max(1, Math.round(bitmap.width * scale)),
      Math.max(1, Math.round(bitmap.height * scale)),
    );
    canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await canvas.convertToBlob({ type: "image/webp", quality: 0.85 });
    if (blob.size > MAX_STICKER_BYTES) return null;
    return {
      name: file.name,
      bytes: new Uint8Array(await blob.arrayBuffer()),
      mime: blob.type,
      url: URL.createObjectURL(blob),
    };
  } finally {
    bitmap.close();
  }
}

/** Makes a sticker pack from images on this device, and shares it in the open chat if wanted. */
export function StickerPackDialog({ chatId, onClose }: { chatId: string; onClose: () => void }): ReactNode {
  const { t, tp } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<Picked[]>([]);
  const [share, setShare] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), files: useId(), share: useId() };

  useEffect(() => () => picked.forEach((p) => URL.revokeObjectURL(p.url)), [picked]);

  const choose = async (files: File[]): Promise<void> => {
    setError(null);
    const next: Picked[] = [];
    for (const f of files.slice(0, MAX_IMAGES - picked.length)) {
      const s = await toSticker(f).catch(() => null);
      if (s) next.push(s);
      else setError(t("pack.badImage", { name: f.name }));
    }
    setPicked((p) => [...p, ...next]);
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (busy) return;
    if (!name.trim()) return setError(t("pack.nameRequired"));
    if (picked.length === 0) return setError(t("pack.imagesRequired"));
    setBusy(true);
    setError(null);
    try {
      const pack = await client.createStickerPack(
        name,
        picked.map((p) => ({ bytes: p.bytes, mime: p.mime })),
      );
      notifyStickerPacksChanged();
      if (share) await client.shareStickerPack(chatId, pack.id);
      showToast(t("pack.created", { name: pack.name }));
      onClose();
    } catch (err) {
      setError(t(errorMessageKey(err)));
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("pack.create")} onClose={onClose} testId="sticker-pack-dialog">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field" htmlFor={ids.name}>
          <span>{t("pack.name")}</span>
          <input
            id={ids.name}
            className="input"
            data-testid="pack-name"
            value={name}
            maxLength={64}
            placeholder={t("pack.namePlaceholder")}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <div className="field">
          <span>{t("pack.images")}</span>
          <label className="button" htmlFor={ids.files}>
            {t("pack.chooseImages")}
          </label>
          <input
            id={ids.files}
            type="file"
            accept="image/*"
            multiple
            className="visually-hidden"
            data-testid="pack-files"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = "";
              void choose(files);
            }}
          />
        </div>
        {picked.length > 0 && (
          <>
            <p className="muted small-text" role="status">
              {tp("pack.count", picked.length)}
            </p>
            <div className="pack-preview">
              {picked.map((p, i) => (
                <img key={i} src={p.url} alt={p.name} width={56} height={56} />
              ))}
            </div>
          </>
        )}
        <label className="checkbox-row" htmlFor={ids.share}>
          <input
            id={ids.share}
            type="checkbox"
            checked={share}
            onChange={(e) => setShare(e.target.checked)}
          />
          <span>{t("pack.shareHere")}</span>
        </label>
        <DialogFormFooter
          error={error}
          onCancel={onClose}
          submitTestId="pack-create"
          busy={busy}
          label={t("pack.make")}
          busyLabel={t("pack.creating")}
        />
      </form>
    </Dialog>
  );
}
