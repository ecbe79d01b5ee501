/**
 * Shared set-up for this package's tests (not exported from index.ts): devices with keys and
 * KeyPackages, and a directory-backed CredentialValidator like the SDK's.
 */

import { bytesEqual } from "./bytes.ts";
import { generateDeviceKeys } from "./device-keys.ts";
import { generateKeyPackage } from "./key-package.ts";
import type { CredentialValidator, DeviceKeys, KeyPackageBundle, MemberIdentity } from "./types.ts";

/** A test device: identity, keys and a few unused KeyPackages. */
export type TestDevice = {
  identity: MemberIdentity;
  keys: DeviceKeys;
  keyPackages: KeyPackageBundle[];
};

/** Creates a device with one KeyPackage and registers it in `directory`. */
export async function makeDevice(
  directory: Map<string, Uint8Array>,
  userId: string,
  deviceId: string,
): Promise<TestDevice> {
  const identity = { userId, deviceId };
  const keys = await generateDeviceKeys();
  directory.set(`${userId}/${deviceId}`, keys.signaturePublicKey);
  return { identity, keys, keyPackages: [await generateKeyPackage(identity, keys)] };
}

/** Accepts exactly the (identity, key) pairs in the directory; records every question asked. */
export function directoryValidator(directory: Map<string, Uint8Array>): CredentialValidator & {
  calls: string[];
} {
  const calls: string[] = [];
  const validate = async (identity: MemberIdentity, signaturePublicKey: Uint8Array): Promise<boolean> => {
    calls.push(`${identity.userId}/${identity.deviceId}`);
    const known = directory.get(`${identity.userId}/${identity.deviceId}`);
    return known !== undefined && bytesEqual(known, signaturePublicKey);
  };
  return Object.assign(validate, { calls });
}

/** UTF-8 text as bytes, for readable plaintexts. */
export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}
