import { toBase64Url } from "@sori/protocol";

/** Iterations of SHA-512 per fingerprint: makes finding a colliding key expensive (as Signal does). */
const ITERATIONS = 5200;
/** 2: over the account identity key (1 was over the set of device keys). */
const VERSION = 2;
const encoder = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One user's half of a safety number: 30 digits over the user id and the account's identity key. It
 * stays the same when the user adds or removes devices (their account key signs them in) and changes
 * only when the account gets a new identity key.
 */
async function fingerprintDigits(userId: string, accountKey: Uint8Array): Promise<string> {
  const keys = accountKey;
  const id = encoder.encode(userId);
  let hash = concat(new Uint8Array([0, VERSION]), keys, id);
  for (let i = 0; i < ITERATIONS; i++)
    hash = new Uint8Array(await crypto.subtle.digest("SHA-512", concat(hash, keys) as BufferSource));
  let digits = "";
  // Six chunks of five bytes, each read as a number mod 100000: five digits per chunk.
  for (let c = 0; c < 6; c++) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + hash[c * 5 + j]!;
    digits += String(n % 100_000).padStart(5, "0");
  }
  return digits;
}

export type SafetyNumber = {
  /** 60 digits; the same on both sides. */
  digits: string;
  /** The digits in twelve groups of five, for display. */
  groups: string[];
  /** What a QR code shows; scanning the other side's and comparing proves the same keys. */
  qr: string;
};

/** The safety number of two users: both halves, ordered by user id so both sides compute the same. */
export async function safetyNumberOf(
  a: { userId: string; accountKey: Uint8Array },
  b: { userId: string; accountKey: Uint8Array },
): Promise<SafetyNumber> {
  const [first, second] = a.userId < b.userId ? [a, b] : [b, a];
  const digits =
    (await fingerprintDigits(first.userId, first.accountKey)) +
    (await fingerprintDigits(second.userId, second.accountKey));
  const groups = digits.match(/\d{5}/g) ?? [];
  const qr = `sori-safety:${VERSION}:${toBase64Url(encoder.encode(first.userId))}:${toBase64Url(encoder.encode(second.userId))}:${digits}`;
  return { digits, groups, qr };
}
