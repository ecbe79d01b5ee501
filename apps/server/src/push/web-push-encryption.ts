import { createCipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";

/** The record size every push is sent with: one record, as RFC 8291 §4 requires of push messages. */
const RECORD_SIZE = 4096;
/** AES-128-GCM's tag, the overhead of a record. */
const TAG_BYTES = 16;
/** The largest plaintext one record of RECORD_SIZE holds (its delimiter octet counted apart). */
const MAX_PLAINTEXT = RECORD_SIZE - TAG_BYTES - 1;

const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Buffer =>
  Buffer.from(hkdfSync("sha256", ikm, salt, info, length));

/**
 * The `aes128gcm` content coding (RFC 8188) of `plaintext` as a single record: the header (salt,
 * record size, key id) then the record, the plaintext followed by the last-record delimiter 0x02 and
 * `padding` zero octets. `ikm` is the input keying material the content encryption key and nonce
 * are derived from (RFC 8188 §2.2, §2.3).
 */
export function encryptAes128gcm(
  plaintext: Uint8Array,
  ikm: Uint8Array,
  options: { salt: Uint8Array; keyId?: Uint8Array; padding?: number },
): Buffer {
  const { salt, keyId = new Uint8Array(0), padding = 0 } = options;
  if (salt.length !== 16) throw new RangeError("the salt is 16 bytes");
  if (keyId.length > 255) throw new RangeError("a key id is at most 255 bytes");
  if (plaintext.length + padding > MAX_PLAINTEXT)
    throw new RangeError(`one record holds at most ${MAX_PLAINTEXT} bytes`);
  const cek = hkdf(ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16);
  const nonce = hkdf(ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12);
  const header = Buffer.alloc(21 + keyId.length);
  header.set(salt, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header[20] = keyId.length;
  header.set(keyId, 21);
  // The record's sequence number is 0, so its nonce is the derived one as it is (RFC 8188 §2.3).
  const cipher = createCipheriv("aes-128-gcm", cek, nonce);
  const record = Buffer.concat([
    cipher.update(plaintext),
    cipher.update(Buffer.from([2])),
    cipher.update(Buffer.alloc(padding)),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return Buffer.concat([header, record]);
}

/** What a push is encrypted to: the subscription's keys (from the browser). */
export type PushKeys = { p256dh: Uint8Array; auth: Uint8Array };

/**
 * A Web Push message body (RFC 8291): ECDH between a fresh P-256 key of ours and the subscription's
 * public key, mixed with its authentication secret by HKDF, then `aes128gcm` with our public key as
 * the key id. `ephemeral` (a private key) and `salt` are for the RFC's test vector only; every real
 * push gets fresh ones, and `padding` zero octets so that payloads of different kinds are the same size.
 */
export function encryptWebPush(
  plaintext: Uint8Array,
  keys: PushKeys,
  options: { padding?: number; ephemeral?: Uint8Array; salt?: Uint8Array } = {},
): Buffer {
  const ecdh = createECDH("prime256v1");
  if (options.ephemeral) ecdh.setPrivateKey(options.ephemeral);
  else ecdh.generateKeys();
  const asPublic = ecdh.getPublicKey();
  // Throws for a point that is not on the curve (the server checked it at registration already).
  const shared = ecdh.computeSecret(keys.p256dh);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), keys.p256dh, asPublic]);
  const ikm = hkdf(shared, keys.auth, keyInfo, 32);
  return encryptAes128gcm(plaintext, ikm, {
    salt: options.salt ?? randomBytes(16),
    keyId: asPublic,
    padding: options.padding ?? 0,
  });
}

/** Whether `key` is an uncompressed point on P-256 (what a browser's p256dh must be). */
export function isP256PublicKey(key: Uint8Array): boolean {
  if (key.length !== 65 || key[0] !== 4) return false;
  try {
    const probe = createECDH("prime256v1");
    probe.generateKeys();
    probe.computeSecret(key);
    return true;
  } catch {
    return false;
  }
}
