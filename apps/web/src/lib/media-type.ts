/** Raster image types Sori shows in an <img>; never SVG, which can carry scripts. */
export type ImageType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";
/** The containers voice messages are recorded in (Chromium and Firefox: WebM or Ogg; Safari: MP4). */
type AudioType = "audio/webm" | "audio/ogg" | "audio/mp4";
export type MediaType = ImageType | AudioType;

/** What a browser does not render as a page: a blob: URL of this type opened in a tab is a download. */
export const OPAQUE_TYPE = "application/octet-stream";

/**
 * The type of bytes someone else sent (an attachment, a sticker, an avatar), judged by the file
 * signature and never by the type the sender claimed; null when they are none of the formats above.
 * A blob: URL runs in the app's origin, so only what this returns may label one.
 */
export function sniffMediaType(bytes: Uint8Array): MediaType | null {
  const at = (offset: number, ...expected: number[]): boolean =>
    expected.every((value, i) => bytes[offset + i] === value);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return "image/gif"; // "GIF8"
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp"; // "RIFF" … "WEBP"
  if (at(0, 0x1a, 0x45, 0xdf, 0xa3)) return "audio/webm"; // EBML (WebM, Matroska)
  if (at(0, 0x4f, 0x67, 0x67, 0x53)) return "audio/ogg"; // "OggS"
  if (at(4, 0x66, 0x74, 0x79, 0x70)) return "audio/mp4"; // "ftyp" (ISO base media: MP4, M4A)
  return null;
}

export function isImageType(type: string | null): type is ImageType {
  return type === "image/png" || type === "image/jpeg" || type === "image/gif" || type === "image/webp";
}

/**
 * An object URL of received bytes, typed by sniffMediaType and else as OPAQUE_TYPE: an SVG or HTML
 * file opened from it (a new tab, "open image") is downloaded, not run as a page of this origin.
 */
export function blobUrlOf(bytes: Uint8Array): string {
  // A fresh ArrayBuffer-backed copy: Blob wants one, and the SDK may reuse its buffer.
  return URL.createObjectURL(
    new Blob([new Uint8Array(bytes)], { type: sniffMediaType(bytes) ?? OPAQUE_TYPE }),
  );
}

/** An object URL of received bytes for an <img>, or null when they are not a raster image. */
export function imageBlobUrl(bytes: Uint8Array): string | null {
  return isImageType(sniffMediaType(bytes)) ? blobUrlOf(bytes) : null;
}
