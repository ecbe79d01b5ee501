import type { Credential } from "ts-mls";
import { ByteReader, ByteWriter, bytesEqual, fromUtf8, utf8 } from "./bytes.ts";
import { CryptoError, type DeviceCredential, type MemberIdentity } from "./types.ts";

/** Leads every Sori credential, with its format version; anything else is a foreign credential. */
const MAGIC = utf8("sori-id/2");

/**
 * Encodes a device credential as an MLS basic credential: the magic, then length-prefixed user id,
 * device id, account key and certificate. "invalid-credential" if it cannot be one of ours.
 */
export function identityCredential(credential: DeviceCredential): Credential {
  const { userId, deviceId, accountKey, certificate } = credential;
  if (!isPart(userId) || !isPart(deviceId)) {
    throw new CryptoError("invalid-credential", "userId and deviceId must be non-empty and contain no '/'");
  }
  if (
    !(accountKey instanceof Uint8Array) ||
    accountKey.length !== 32 ||
    !(certificate instanceof Uint8Array)
  ) {
    throw new CryptoError("invalid-credential", "a credential needs a 32-byte account key and a certificate");
  }
  const identity = new ByteWriter()
    .raw(MAGIC)
    .bytes(utf8(userId))
    .bytes(utf8(deviceId))
    .bytes(accountKey)
    .bytes(certificate)
    .finish();
  return { credentialType: "basic", identity };
}

/** Parses a credential back into a device credential, or undefined when it is not one of ours. */
export function parseCredential(credential: Credential): DeviceCredential | undefined {
  if (credential.credentialType !== "basic") return undefined;
  const bytes = credential.identity;
  if (bytes.length < MAGIC.length || !bytesEqual(bytes.subarray(0, MAGIC.length), MAGIC)) return undefined;
  try {
    const reader = new ByteReader(bytes.subarray(MAGIC.length), "credential");
    const userId = fromUtf8(reader.bytes());
    const deviceId = fromUtf8(reader.bytes());
    const accountKey = reader.bytes();
    const certificate = reader.bytes();
    reader.end();
    if (!isPart(userId) || !isPart(deviceId) || accountKey.length !== 32) return undefined;
    return { userId, deviceId, accountKey, certificate };
  } catch {
    return undefined;
  }
}

/** Like parseCredential, but a foreign credential is an error with the given code. */
export function requireIdentity(
  credential: Credential,
  code: "malformed" | "invalid-credential",
): DeviceCredential {
  const identity = parseCredential(credential);
  if (identity === undefined) throw new CryptoError(code, "credential is not a Sori device credential");
  return identity;
}

/** Same user and device. */
export function sameIdentity(a: MemberIdentity, b: MemberIdentity): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

/** Just the user and device of a credential (what senders and members are reported as). */
export function memberOf(c: MemberIdentity): MemberIdentity {
  return { userId: c.userId, deviceId: c.deviceId };
}

function isPart(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && !value.includes("/");
}
