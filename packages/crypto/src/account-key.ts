import { ed25519 } from "@noble/curves/ed25519.js";
import { deviceCertificateMessage } from "@sori/protocol";
import { BoundedMemo, hexOf } from "./bounded-memo.ts";
import { bytesEqual } from "./bytes.ts";
import { CryptoError, type DeviceCredential, type MemberIdentity } from "./types.ts";

/**
 * An account's identity key pair (Ed25519). It is made on the account's first device and handed only
 * to devices the account approves (sealed to them, see key-transfer.ts); the server never has the
 * private half. It signs each device of the account in: the signature is the device certificate.
 */
export type AccountKeys = { publicKey: Uint8Array; privateKey: Uint8Array };

export function generateAccountKeys(): AccountKeys {
  const privateKey = ed25519.utils.randomSecretKey();
  return { publicKey: ed25519.getPublicKey(privateKey), privateKey };
}

/** The account key pair of a private key (after it was handed over); "malformed" if it is not one. */
export function accountKeysOf(privateKey: Uint8Array): AccountKeys {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32)
    throw new CryptoError("malformed", "an account key is 32 bytes");
  return { publicKey: ed25519.getPublicKey(privateKey), privateKey };
}

// Shared with the server, which checks certificates too (a label gives domain separation).
function certificateMessage(device: MemberIdentity, signatureKey: Uint8Array): Uint8Array {
  return deviceCertificateMessage(device.userId, device.deviceId, signatureKey);
}

/** Signs a device into the account: the credential its KeyPackages and leaves carry. */
export function certifyDevice(
  account: AccountKeys,
  device: MemberIdentity,
  signatureKey: Uint8Array,
): DeviceCredential {
  if (!bytesEqual(ed25519.getPublicKey(account.privateKey), account.publicKey))
    throw new CryptoError("malformed", "the account key pair does not belong together");
  const certificate = ed25519.sign(certificateMessage(device, signatureKey), account.privateKey);
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    accountKey: account.publicKey.slice(),
    certificate,
  };
}

/** Whether `credential` is the account key's signature over this device and its signature key. */
export function verifyDeviceCertificate(credential: DeviceCredential, signatureKey: Uint8Array): boolean {
  if (credential.accountKey.length !== 32 || credential.certificate.length !== 64) return false;
  const message = certificateMessage(credential, signatureKey);
  const key = `${hexOf(credential.accountKey)}:${hexOf(credential.certificate)}:${hexOf(message)}`;
  return verified.get(key, () => {
    try {
      return ed25519.verify(credential.certificate, message, credential.accountKey);
    } catch {
      // A malformed point or signature is a failed check, never a crash.
      return false;
    }
  });
}

/** Certificates checked already: every KeyPackage of a device carries the same one. */
const verified = new BoundedMemo<boolean>(4096);
