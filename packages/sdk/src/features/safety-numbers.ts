import type { MemberIdentity } from "@sori/crypto";
import type { DeviceContext } from "../device/device-context.ts";
import type { Directory, DirectoryUser } from "../device/directory.ts";
import { SdkError } from "../errors.ts";
import { newMessageId } from "../messages/message-id.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { type SafetyNumber, safetyNumberOf } from "./safety-number.ts";

type Verification = { digits: string; verified: boolean };

/** Safety numbers with contacts, the verified marks on them, and the warnings when they change. */
export class SafetyNumbers {
  readonly #ctx: DeviceContext;
  readonly #directory: Directory;

  constructor(ctx: DeviceContext, directory: Directory) {
    this.#ctx = ctx;
    this.#directory = directory;
  }

  /**
   * The safety number with a contact: 60 digits (and a QR payload) over both users' device keys.
   * Compare it in person or by scanning; it changes whenever either side adds or loses a device.
   */
  async of(
    username: string,
  ): Promise<SafetyNumber & { userId: string; username: string; verified: boolean }> {
    const { enrolment, storage } = this.#ctx;
    const other = await this.#directory.lookupUser(username);
    if (other.userId === enrolment.userId)
      throw new SdkError("bad-request", "a safety number is with someone else");
    const [own] = await this.#directory.usersById([enrolment.userId]);
    const keys = (u: DirectoryUser | undefined): Uint8Array[] =>
      (u?.devices ?? []).map((d) => d.signatureKey);
    const sn = await safetyNumberOf(
      { userId: enrolment.userId, deviceKeys: keys(own) },
      { userId: other.userId, deviceKeys: keys(other) },
    );
    const stored = await getJson<Verification>(storage, StorageKeys.safety(other.userId));
    return {
      ...sn,
      userId: other.userId,
      username: other.username,
      verified: stored?.verified === true && stored.digits === sn.digits,
    };
  }

  /** Marks the current safety number with a contact as verified (or not); a device change undoes it. */
  async setVerified(username: string, verified: boolean): Promise<void> {
    const sn = await this.of(username);
    await putJson(this.#ctx.storage, StorageKeys.safety(sn.userId), { digits: sn.digits, verified });
  }

  /** Compares a scanned QR payload with the safety number; marks the contact verified if they match. */
  async verifyQr(username: string, payload: string): Promise<boolean> {
    const sn = await this.of(username);
    if (payload.trim() !== sn.qr) return false;
    await putJson(this.#ctx.storage, StorageKeys.safety(sn.userId), { digits: sn.digits, verified: true });
    return true;
  }

  /** Writes a warning into the chat for every other member whose set of devices changed. */
  async noteDeviceChanges(chat: string, before: MemberIdentity[], after: MemberIdentity[]): Promise<void> {
    const { chats, events, storage, enrolment } = this.#ctx;
    const devices = (list: MemberIdentity[], u: string): string =>
      list
        .filter((m) => m.userId === u)
        .map((m) => m.deviceId)
        .sort()
        .join();
    for (const u of new Set(before.map((m) => m.userId))) {
      if (u === enrolment.userId || !after.some((m) => m.userId === u)) continue;
      if (devices(before, u) === devices(after, u)) continue;
      const username = await this.#directory.usernameOf(u);
      const entry = await chats.append(
        {
          id: newMessageId(),
          chat,
          from: username,
          fromUserId: u,
          kind: "system",
          text: "",
          system: { event: "devices-changed", userId: u, username },
          sentAt: Date.now(),
          outgoing: false,
          status: "delivered",
        },
        { feed: false, unread: false },
      );
      events.emit("message", entry);
      const stored = await getJson<Verification>(storage, StorageKeys.safety(u));
      if (stored?.verified) await putJson(storage, StorageKeys.safety(u), { ...stored, verified: false });
      events.emit("safety", { userId: u, username });
    }
  }
}
