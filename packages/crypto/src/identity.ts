import type { Credential } from "ts-mls";
import { fromUtf8, utf8 } from "./bytes.ts";
import { CryptoError, type MemberIdentity } from "./types.ts";

/** Encodes an identity as the basic credential `userId/deviceId`; "invalid-credential" if it cannot be. */
export function identityCredential(identity: MemberIdentity): Credential {
  const { userId, deviceId } = identity;
  if (!isPart(userId) || !isPart(deviceId)) {
    throw new CryptoError("invalid-credential", "userId and deviceId must be non-empty and contain no '/'");
  }
  return { credentialType: "basic", identity: utf8(`${userId}/${deviceId}`) };
}

/** Parses a credential back into an identity, or undefined when it is not one of ours. */
export function parseCredential(credential: Credential): MemberIdentity | undefined {
  if (credential.credentialType !== "basic") return undefined;
  let text: string;
  try {
    text = fromUtf8(credential.identity);
  } catch {
    return undefined;
  }
  const parts = text.split("/");
  if (parts.length !== 2) return undefined;
  const [userId, deviceId] = parts as [string, string];
  if (!isPart(userId) || !isPart(deviceId)) return undefined;
  return { userId, deviceId };
}

/** Like parseCredential, but a foreign credential is an error with the given code. */
export function requireIdentity(
  credential: Credential,
  code: "malformed" | "invalid-credential",
): MemberIdentity {
  const identity = parseCredential(credential);
  if (identity === undefined)
    throw new CryptoError(code, "credential is not a Sori userId/deviceId identity");
  return identity;
}

/** Same user and device. */
export function sameIdentity(a: MemberIdentity, b: MemberIdentity): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

function isPart(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && !value.includes("/");
}
