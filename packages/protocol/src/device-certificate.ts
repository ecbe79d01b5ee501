/**
 * The bytes an account's identity key signs to sign a device in (the device certificate): defined
 * here because clients sign and check them (packages/crypto) and the server checks them too, before it
 * lets a device be part of an account. A label, then the user id, device id and the device's
 * signature key, each with a 4-byte big-endian length.
 */
const LABEL = new TextEncoder().encode("sori device certificate v1");

export function deviceCertificateMessage(
  userId: string,
  deviceId: string,
  signatureKey: Uint8Array,
): Uint8Array {
  const parts = [new TextEncoder().encode(userId), new TextEncoder().encode(deviceId), signatureKey];
  const out = new Uint8Array(LABEL.length + parts.reduce((n, p) => n + 4 + p.length, 0));
  out.set(LABEL, 0);
  let at = LABEL.length;
  for (const p of parts) {
    new DataView(out.buffer).setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}
