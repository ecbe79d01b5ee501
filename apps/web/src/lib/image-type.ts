/**
 * The image type of bytes another person sent as their avatar, judged by the file signature, or null
 * if it is not a raster format we show. Only these types reach an <img>, never SVG (which can carry
 * scripts) or anything else.
 */
export function sniffImageType(
  bytes: Uint8Array,
): "image/png" | "image/jpeg" | "image/gif" | "image/webp" | null {
  const b = (i: number): number => bytes[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return "image/png";
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return "image/jpeg";
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return "image/gif";
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45)
    return "image/webp";
  return null;
}
