import type { DeviceKeys, MemberIdentity } from "@sori/crypto";
import { fromBase64 } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";

/** What enrolment (register, login or link) gave this device; stored once, never changed. */
export type DeviceEnrolment = {
  serverUrl: string;
  userId: string;
  username: string;
  deviceId: string;
  token: string;
  /** Ed25519, standard base64. */
  signaturePublicKey: string;
  signaturePrivateKey: string;
};

/** The enrolment stored in `storage`, if this profile has one. */
export function loadEnrolment(storage: ClientStorage): Promise<DeviceEnrolment | undefined> {
  return getJson<DeviceEnrolment>(storage, StorageKeys.enrolment);
}

export function saveEnrolment(storage: ClientStorage, enrolment: DeviceEnrolment): Promise<void> {
  return putJson(storage, StorageKeys.enrolment, enrolment);
}

/** The device's signature key pair from its enrolment; "storage" if the stored keys are damaged. */
export function deviceKeysOf(enrolment: DeviceEnrolment): DeviceKeys {
  const pub = fromBase64(enrolment.signaturePublicKey);
  const priv = fromBase64(enrolment.signaturePrivateKey);
  if (!pub || !priv) throw new SdkError("storage", "the stored profile is damaged");
  return { signaturePublicKey: pub, signaturePrivateKey: priv };
}

/** Who this device is in MLS credentials. */
export function identityOf(enrolment: DeviceEnrolment): MemberIdentity {
  return { userId: enrolment.userId, deviceId: enrolment.deviceId };
}
