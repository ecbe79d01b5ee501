import { CryptoError } from "./types.ts";

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs", 2019): the length a message of `length` bytes is padded to. It leaks at most O(log log L)
 * bits of the length, for at most 12 % overhead; MLS alone pads only to 256 bytes and leaks the
 * exact length above that.
 */
export function padmeLength(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.floor((length + mask) / (mask + 1)) * (mask + 1);
}

/** Appends 0x80 and zeros up to the Padmé length of the result (ISO/IEC 7816-4 padding). */
export function pad(plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(padmeLength(plaintext.length + 1));
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}

/** Inverse of pad; "malformed" if the padding is missing. */
export function unpad(padded: Uint8Array): Uint8Array {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80) throw new CryptoError("malformed", "message padding is missing");
  return padded.slice(0, end);
}
