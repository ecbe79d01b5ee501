import { generateDeviceKeys } from "@sori/crypto";
import { toBase64 } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import type { ClientStorage } from "../storage/storage.ts";
import { authenticate, claimLink } from "../transport/http-api.ts";
import { type DeviceEnrolment, loadEnrolment, saveEnrolment } from "./device-enrolment.ts";

export type EnrolOptions = {
  serverUrl: string;
  storage: ClientStorage;
  deviceName?: string;
};

/** How a device joins: a new account, a password for an existing one, or a code from a signed-in device. */
export type EnrolMode =
  { mode: "register" | "login"; username: string; password: string } | { mode: "link"; code: string };

/**
 * Makes this device's keys, enrols them with the server and stores the enrolment in `storage`
 * (which must not hold one yet). Connecting afterwards uploads KeyPackages, which activates it.
 */
export async function enrol(o: EnrolOptions & EnrolMode): Promise<DeviceEnrolment> {
  const existing = await loadEnrolment(o.storage);
  if (existing)
    throw new SdkError(
      "conflict",
      `this profile is already signed in as ${existing.username}; use another profile`,
    );
  const keys = await generateDeviceKeys();
  const device = { name: o.deviceName ?? "sori device", signatureKey: keys.signaturePublicKey };
  const res =
    o.mode === "link"
      ? await claimLink(o.serverUrl, o.code, device)
      : await authenticate(o.serverUrl, o.mode, o.username, o.password, device);
  const enrolment: DeviceEnrolment = {
    serverUrl: o.serverUrl,
    userId: res.userId,
    username: res.username,
    deviceId: res.deviceId,
    token: res.token,
    signaturePublicKey: toBase64(keys.signaturePublicKey),
    signaturePrivateKey: toBase64(keys.signaturePrivateKey),
  };
  await saveEnrolment(o.storage, enrolment);
  return enrolment;
}

/** `sori-link:CODE:SERVER-URL` → its parts. */
export function parseLinkQr(qr: string): { code: string; serverUrl: string } | undefined {
  const m = qr.trim().match(/^sori-link:([A-Za-z0-9-]{4,64}):(https?:\/\/\S+)$/);
  return m ? { code: m[1]!, serverUrl: m[2]! } : undefined;
}

/** The QR payload of a link code. */
export function linkQr(code: string, serverUrl: string): string {
  return `sori-link:${code}:${serverUrl}`;
}
