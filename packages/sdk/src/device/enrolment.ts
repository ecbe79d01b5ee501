import { generateDeviceKeys, generateTransferKeys } from "@sori/crypto";
import { toBase64 } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import type { ClientStorage } from "../storage/storage.ts";
import { authenticate, claimLink, createBridgedIdentity } from "../transport/http-api.ts";
import { linkProof, splitLinkCode } from "./approval-codes.ts";
import { type DeviceEnrolment, loadEnrolment, saveEnrolment } from "./device-enrolment.ts";
import { DeviceApprovals } from "./device-approvals.ts";

export type EnrolOptions = {
  serverUrl: string;
  storage: ClientStorage;
  deviceName?: string;
};

/** How a device joins: a new account, a password for an existing one, or a code from a signed-in device. */
export type EnrolMode =
  | { mode: "register" | "login"; username: string; password: string }
  | { mode: "link"; code: string }
  /** A gateway makes a bridged identity of its namespace (its own session token authorises it). */
  | { mode: "bridged"; username: string; gatewayToken: string };

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
  const link = o.mode === "link" ? splitLinkCode(o.code) : undefined;
  if (o.mode === "link" && !link)
    throw new SdkError("bad-request", "this is not a Sori device-link code (four groups of five characters)");
  const keys = await generateDeviceKeys();
  // A new account's first device makes the account key itself; any later device gets it, sealed to this.
  const transfer = o.mode === "register" || o.mode === "bridged" ? undefined : await generateTransferKeys();
  const device = {
    name: o.deviceName ?? "sori device",
    signatureKey: keys.signaturePublicKey,
    ...(transfer ? { transferKey: transfer.publicKey } : {}),
  };
  const res =
    o.mode === "link"
      ? await claimLink(
          o.serverUrl,
          link!.serverCode,
          device,
          await linkProof(link!.secret, keys.signaturePublicKey, transfer!.publicKey),
        )
      : o.mode === "bridged"
        ? await createBridgedIdentity(o.serverUrl, o.gatewayToken, o.username, device)
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
  await DeviceApprovals.record(
    o.storage,
    { userId: res.userId, deviceId: res.deviceId, signatureKey: keys.signaturePublicKey },
    res,
    transfer,
    link?.secret,
  );
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
