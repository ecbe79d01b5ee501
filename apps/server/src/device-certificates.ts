import { createPublicKey, verify } from "node:crypto";
import { deviceCertificateMessage, ProtocolError } from "@sori/protocol";

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): what node:crypto takes a raw key in. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * Whether `certificate` is the account key's signature over this device (the same bytes clients sign,
 * deviceCertificateMessage). The server checks it before a device joins an account, so that even a
 * careless or hostile client cannot put an unsigned device into the directory; clients check again.
 */
export function verifyDeviceCertificate(
  accountKey: Uint8Array,
  device: { userId: string; deviceId: string; signatureKey: Uint8Array },
  certificate: Uint8Array,
): boolean {
  if (accountKey.length !== 32 || certificate.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, accountKey]),
      format: "der",
      type: "spki",
    });
    return verify(
      null,
      deviceCertificateMessage(device.userId, device.deviceId, device.signatureKey),
      key,
      certificate,
    );
  } catch {
    return false;
  }
}

/** Refuses (`bad-request`, naming `whose` device) a certificate that is not the account key's signature. */
export function requireDeviceCertificate(
  accountKey: Uint8Array,
  device: { userId: string; deviceId: string; signatureKey: Uint8Array } | undefined,
  certificate: Uint8Array,
  whose: "this" | "that",
): void {
  if (device === undefined || !verifyDeviceCertificate(accountKey, device, certificate))
    throw new ProtocolError(
      "bad-request",
      `the certificate is not the account key's signature over ${whose} device`,
    );
}
