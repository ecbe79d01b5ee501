import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesEqual } from "./bytes.ts";
import { CryptoError, type DeviceKeys } from "./types.ts";

/**
 * Generates a device's Ed25519 signature key pair. The private key is the raw 32-byte seed (not the
 * PKCS#8 blob WebCrypto exports) so it works with both of ts-mls's signature back ends.
 */
export async function generateDeviceKeys(): Promise<DeviceKeys> {
  const signaturePrivateKey = ed25519.utils.randomSecretKey();
  return { signaturePublicKey: ed25519.getPublicKey(signaturePrivateKey), signaturePrivateKey };
}

/** Rejects key pairs whose halves do not belong together, before they end up signed into a leaf. */
export function checkDeviceKeys(keys: DeviceKeys): void {
  const ok =
    keys.signaturePrivateKey instanceof Uint8Array &&
    keys.signaturePrivateKey.length === 32 &&
    keys.signaturePublicKey instanceof Uint8Array &&
    bytesEqual(publicKeyOf(keys.signaturePrivateKey), keys.signaturePublicKey);
  if (!ok) throw new CryptoError("malformed", "device keys are not a matching Ed25519 key pair");
}

/**
 * A private key's public half, remembered per key object (a device checks its own keys for every
 * KeyPackage it makes); a copy of the key's bytes is kept beside it, so a changed array is derived again.
 */
const derived = new WeakMap<Uint8Array, { of: Uint8Array; publicKey: Uint8Array }>();

function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  const known = derived.get(privateKey);
  if (known && bytesEqual(known.of, privateKey)) return known.publicKey;
  const publicKey = ed25519.getPublicKey(privateKey);
  derived.set(privateKey, { of: privateKey.slice(), publicKey });
  return publicKey;
}
