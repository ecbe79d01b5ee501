import { MAX_AVATAR_BYTES } from "@sori/sdk";
import { decodeImage } from "./decode-image.ts";

/** Largest avatar edge in pixels; avatars travel inside encrypted messages, so they stay small. */
const AVATAR_MAX_EDGE = 128;

function toBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/**
 * Downscales a picked image to at most 128 px (center-cropped to a square, as avatars are shown round)
 * and encodes it as PNG, or JPEG at falling quality when the PNG is over the SDK's limit (MAX_AVATAR_BYTES). Returns null when the
 * file cannot be decoded as an image or cannot be made small enough.
 */
export async function prepareAvatar(file: Blob): Promise<Uint8Array | null> {
  const bitmap = await decodeImage(file);
  if (!bitmap) return null;
  const side = Math.min(bitmap.width, bitmap.height);
  const edge = Math.min(AVATAR_MAX_EDGE, side);
  const canvas = document.createElement("canvas");
  canvas.width = edge;
  canvas.height = edge;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, edge, edge);
  bitmap.close();
  const attempts: [string, number | undefined][] = [
    ["image/png", undefined],
    ["image/jpeg", 0.9],
    ["image/jpeg", 0.75],
    ["image/jpeg", 0.5],
  ];
  for (const [type, quality] of attempts) {
    const blob = await toBlob(canvas, type, quality);
    if (blob && blob.size <= MAX_AVATAR_BYTES) return new Uint8Array(await blob.arrayBuffer());
  }
  return null;
}
