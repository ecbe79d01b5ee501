/**
 * The small secrets and checks of approving a new device: the code both devices show for a password
 * sign-in, and the half of a link code the server never sees, which proves that the device asking to
 * be approved is the one that read the code.
 */

const encoder = new TextEncoder();
/** The server's link-code alphabet (no 0/O, 1/I/L, U): easy to read aloud and type. */
const ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789";
const SECRET_CHARS = 10;

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 4, 0));
  let at = 0;
  for (const p of parts) {
    new DataView(out.buffer).setUint32(at, p.length);
    out.set(p, at + 4);
    at += p.length + 4;
  }
  return out;
}

/**
 * Twelve digits (as "1234 5678 9012") over a new device's keys: the new device shows it, the approving
 * device shows it beside the request. A device the server slipped in (or a new device the server told
 * a false account key) shows different digits, and 40 bits are too many to find matching keys for
 * while someone looks.
 */
export async function approvalCode(
  device: { userId: string; deviceId: string },
  signatureKey: Uint8Array,
  transferKey: Uint8Array,
  accountKey: Uint8Array | undefined,
): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      concat(
        encoder.encode("sori approval code v1"),
        encoder.encode(device.userId),
        encoder.encode(device.deviceId),
        signatureKey,
        transferKey,
        // The account key the new device was told of: a server that named another one shows other digits.
        accountKey ?? new Uint8Array(0),
      ),
    ),
  );
  let digits = "";
  for (let c = 0; c < 3; c++) {
    const n = new DataView(digest.buffer).getUint32(c * 4);
    digits += String(n % 10_000).padStart(4, "0");
  }
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

/** The secret half of a link code (about 49 bits), made and kept by the device that shows the code. */
export function newLinkSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_CHARS));
  // 256 is not a multiple of 30; the bias (a few per cent between characters) costs well under a bit.
  return [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("");
}

/** The code a person types or scans: the server's part, then the secret part, in groups of five. */
export function fullLinkCode(serverCode: string, secret: string): string {
  return `${serverCode}-${secret.slice(0, 5)}-${secret.slice(5)}`;
}

/** A typed or scanned link code split into the server's part and the secret; undefined if malformed. */
export function splitLinkCode(code: string): { serverCode: string; secret: string } | undefined {
  const clean = code.toUpperCase().replace(/[^A-Z0-9]/g, "");
  if (clean.length !== 20) return undefined;
  return { serverCode: `${clean.slice(0, 5)}-${clean.slice(5, 10)}`, secret: clean.slice(10) };
}

/** HMAC-SHA-256 under the link secret over the new device's keys. */
export async function linkProof(
  secret: string,
  signatureKey: Uint8Array,
  transferKey: Uint8Array,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret.toUpperCase()),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key, concat(encoder.encode("sori link v1"), signatureKey, transferKey)),
  );
}

/** Constant-time comparison of two proofs. */
export function sameProof(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
