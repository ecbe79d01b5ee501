import type { ClientStorage } from "../storage/storage.ts";
import { createLink, listDevices, logout, revokeDevice } from "../transport/http-api.ts";
import type { DeviceEnrolment } from "./device-enrolment.ts";
import { linkQr } from "./enrolment.ts";

export type DeviceList = Awaited<ReturnType<typeof listDevices>>;

/** This account's devices as the server lists them: listing, signing others out, linking new ones. */
export class Devices {
  readonly #enrolment: DeviceEnrolment;

  constructor(enrolment: DeviceEnrolment) {
    this.#enrolment = enrolment;
  }

  /** This account's active devices. */
  list(): Promise<DeviceList> {
    return listDevices(this.#enrolment.serverUrl, this.#enrolment.token);
  }

  /** Revokes another device of this account; chats drop it the next time anyone sends. */
  async revoke(deviceId: string): Promise<void> {
    await revokeDevice(this.#enrolment.serverUrl, this.#enrolment.token, deviceId);
  }

  /**
   * A single-use code (valid 10 minutes) that lets a new device join this account without the
   * password: show `code` to type, or `qr` as a QR code for the new device to scan.
   */
  async createLink(): Promise<{ code: string; expiresAt: number; qr: string }> {
    const r = await createLink(this.#enrolment.serverUrl, this.#enrolment.token);
    return { ...r, qr: linkQr(r.code, this.#enrolment.serverUrl) };
  }

  /** Revokes this device on the server and forgets everything stored locally. */
  async logout(storage: ClientStorage): Promise<void> {
    await logout(this.#enrolment.serverUrl, this.#enrolment.token);
    for (const key of await storage.list("")) await storage.delete(key);
  }
}
