import { decodeImage } from "./decode-image.ts";

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

/** A data: URL for a base64 JPEG thumbnail, for an <img>. */
export function thumbnailUrl(base64: string): string {
  return `data:image/jpeg;base64,${base64}`;
}
