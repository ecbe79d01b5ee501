import { ByteReader, ByteWriter, utf8 } from "./bytes.ts";
import { cipherSuite } from "./cipher-suite.ts";
import { toCryptoError } from "./errors.ts";
import { CryptoError } from "./types.ts";

/**
 * Handing a secret (the account's private key) from an approving device to a new one through the
 * server, which must not be able to read it: HPKE (RFC 9180, the MLS suite's DHKEM-X25519, HKDF-SHA256,
 * AES-128-GCM) to a key pair the new device made for this and announced with its sign-in. `context`
 * binds the sealed box to one device (its user and device ids), so it cannot be replayed to another.
 */
export type TransferKeys = { publicKey: Uint8Array; privateKey: Uint8Array };

const INFO = utf8("sori key transfer v1");
const VERSION = 1;

/** A fresh key pair to receive a sealed secret with. */
export async function generateTransferKeys(): Promise<TransferKeys> {
  const cs = await cipherSuite();
  const { publicKey, privateKey } = await cs.hpke.generateKeyPair();
  return {
    publicKey: await cs.hpke.exportPublicKey(publicKey),
    privateKey: await cs.hpke.exportPrivateKey(privateKey),
  };
}

/** Seals `secret` so that only the holder of `recipientKey`'s private half can open it. */
export async function sealSecret(
  recipientKey: Uint8Array,
  secret: Uint8Array,
  context: Uint8Array,
): Promise<Uint8Array> {
  const cs = await cipherSuite();
  try {
    const { ct, enc } = await cs.hpke.seal(
      await cs.hpke.importPublicKey(recipientKey),
      secret,
      INFO,
      context,
    );
    return new ByteWriter().u8(VERSION).bytes(enc).bytes(ct).finish();
  } catch (error) {
    throw toCryptoError(error, "sealSecret", "malformed");
  }
}

/** Opens what sealSecret made for this key pair; "decrypt-failed" if it was not, or was altered. */
export async function openSecret(
  keys: TransferKeys,
  sealed: Uint8Array,
  context: Uint8Array,
): Promise<Uint8Array> {
  const reader = new ByteReader(sealed, "sealed secret");
  const version = reader.u8();
  if (version !== VERSION) throw new CryptoError("malformed", `sealed secret: unknown version ${version}`);
  const enc = reader.bytes();
  const ct = reader.bytes();
  reader.end();
  const cs = await cipherSuite();
  try {
    return await cs.hpke.open(await cs.hpke.importPrivateKey(keys.privateKey), enc, ct, INFO, context);
  } catch (error) {
    throw toCryptoError(error, "openSecret", "decrypt-failed");
  }
}
