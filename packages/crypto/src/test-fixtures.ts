/**
 * Shared set-up for this package's tests (not exported from index.ts): devices with keys and
 * KeyPackages, signed in by their account's key, and a directory-backed CredentialValidator like the
 * SDK's.
 */

import { type AccountKeys, certifyDevice, generateAccountKeys } from "./account-key.ts";
import { bytesEqual } from "./bytes.ts";
import { generateDeviceKeys } from "./device-keys.ts";
import { generateKeyPackage } from "./key-package.ts";
import type {
  CertifiedMember,
  CredentialValidator,
  DeviceCredential,
  DeviceKeys,
  KeyPackageBundle,
  MemberIdentity,
} from "./types.ts";

/** A test device: credential (certified by its user's account key), keys and a few unused KeyPackages. */
export type TestDevice = {
  identity: DeviceCredential;
  /** Just the user and device: what senders and members are reported as. */
  member: MemberIdentity;
  keys: DeviceKeys;
  keyPackages: KeyPackageBundle[];
};

/** Each test user's account key, made on first use. */
const accounts = new Map<string, AccountKeys>();

/** The account key pair of a test user (the same for all of the user's devices). */
export function accountOf(userId: string): AccountKeys {
  let keys = accounts.get(userId);
  if (!keys) {
    keys = generateAccountKeys();
    accounts.set(userId, keys);
  }
  return keys;
}

/** Creates a device with one KeyPackage and registers it in `directory`. */
export async function makeDevice(
  directory: Map<string, Uint8Array>,
  userId: string,
  deviceId: string,
  account: AccountKeys = accountOf(userId),
): Promise<TestDevice> {
  const keys = await generateDeviceKeys();
  const identity = certifyDevice(account, { userId, deviceId }, keys.signaturePublicKey);
  directory.set(`${userId}/${deviceId}`, keys.signaturePublicKey);
  return {
    identity,
    member: { userId, deviceId },
    keys,
    keyPackages: [await generateKeyPackage(identity, keys)],
  };
}

/**
 * Accepts exactly the (identity, key) pairs in the directory whose account key is the user's; records
 * every question asked.
 */
export function directoryValidator(directory: Map<string, Uint8Array>): CredentialValidator & {
  calls: string[];
} {
  const calls: string[] = [];
  const validate = async (member: CertifiedMember, signaturePublicKey: Uint8Array): Promise<boolean> => {
    calls.push(`${member.userId}/${member.deviceId}`);
    const known = directory.get(`${member.userId}/${member.deviceId}`);
    return (
      known !== undefined &&
      bytesEqual(known, signaturePublicKey) &&
      bytesEqual(member.accountKey, accountOf(member.userId).publicKey)
    );
  };
  return Object.assign(validate, { calls });
}

/** UTF-8 text as bytes, for readable plaintexts. */
export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}
