import { decodeImage } from "./decode-image.ts";
import { isImageType, sniffMediaType } from "./media-type.ts";

/** Sizes tried in turn until the JPEG fits the SDK's inline limit (15 KB): [longest side, quality]. */
const ATTEMPTS: [number, number][] = [
  [320, 0.72],
  [240, 0.6],
  [160, 0.5],
  [96, 0.4],
];
const THUMB_MAX_BYTES = 15_000;

export type ImageFacts = { thumbnail: Uint8Array; width: number; height: number };

/**
 * A small JPEG preview of an image (≤ 15 KB) and its full size, computed here in the browser so the
 * server never sees the picture. Null when the browser cannot decode the file as an image.
 */
export async function makeThumbnail(file: Blob): Promise<ImageFacts | null> {
  const bitmap = await decodeImage(file);
  if (!bitmap) return null;
  try {
    const { width, height } = bitmap;
    if (width === 0 || height === 0) return null;
    for (const [maxPx, quality] of ATTEMPTS) {
      const scale = Math.min(1, maxPx / Math.max(width, height));
      const w = Math.max(1, Math.round(width * scale));
      const h = Math.max(1, Math.round(height * scale));
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext("2d");
      if (!ctx) return null;
      // JPEG has no transparency: a white ground keeps transparent PNGs readable.
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, w, h);
      ctx.drawImage(bitmap, 0, 0, w, h);
      const blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
      if (blob.size <= THUMB_MAX_BYTES)
        return { thumbnail: new Uint8Array(await blob.arrayBuffer()), width, height };
    }
    return null;
  } finally {
    bitmap.close();
  }
}

/**
 * A data: URL for the base64 thumbnail that came with a photo, for an <img>; null when its bytes are not
 * a raster image (the sender's app makes JPEGs, but the sender chooses what they send).
 */
export function thumbnailUrl(base64: string): string | null {
  let head: Uint8Array;
  try {
    // 16 base64 characters are the first 12 bytes: enough for every signature sniffMediaType knows.
    head = Uint8Array.from(atob(base64.slice(0, 16)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  const type = sniffMediaType(head);
  return isImageType(type) ? `data:${type};base64,${base64}` : null;
}
