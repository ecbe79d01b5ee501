import { fromBase64 } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import type { Directory, Refusal } from "../device/directory.ts";
import type { TrustStore } from "../device/trust-store.ts";
import { SdkError } from "../errors.ts";
import type { SystemEvent } from "../messages/chat-store.ts";
import { type SafetyNumber, safetyNumberOf } from "./safety-number.ts";
import { appendSystemLine } from "../messages/system-line.ts";

export type SafetyNumberInfo = SafetyNumber & {
  userId: string;
  username: string;
  /** The person compared this number (and nothing changed since). */
  verified: boolean;
  /** Their account key changed since this device last accepted it: compare, then accept the change. */
  changed: boolean;
};

/**
 * Safety numbers with contacts (over both accounts' identity keys), the verified marks on them, and
 * the warnings when a contact's account key changes: a line in every chat with them, and nothing sent
 * to them until the change is acknowledged.
 */
export class SafetyNumbers {
  readonly #ctx: DeviceContext;
  readonly #directory: Directory;
  readonly #trust: TrustStore;

  constructor(ctx: DeviceContext, directory: Directory, trust: TrustStore) {
    this.#ctx = ctx;
    this.#directory = directory;
    this.#trust = trust;
  }

  /**
   * The safety number with a contact: 60 digits (and a QR payload) over both accounts' identity keys.
   * It stays the same as devices come and go; after a change it is the new key's number (`changed`).
   */
  async of(username: string): Promise<SafetyNumberInfo> {
    const { enrolment, account } = this.#ctx;
    const other = await this.#directory.lookupUser(username);
    if (other.userId === enrolment.userId)
      throw new SdkError("bad-request", "a safety number is with someone else");
    const rec = await this.#trust.get(other.userId);
    const theirs = rec?.changed?.accountKey ?? rec?.accountKey;
    const ours = account.accountKey;
    if (!theirs || !ours)
      throw new SdkError("not-found", `no account key is known for ${other.username} yet`);
    const sn = await safetyNumberOf(
      { userId: enrolment.userId, accountKey: ours },
      { userId: other.userId, accountKey: fromBase64(theirs)! },
    );
    return {
      ...sn,
      userId: other.userId,
      username: other.username,
      verified: rec?.verified === true && !rec.changed,
      changed: rec?.changed !== undefined,
    };
  }

  /** Marks the contact verified (or not). Verifying the number shown after a change accepts the change. */
  async setVerified(username: string, verified: boolean): Promise<void> {
    const sn = await this.of(username);
    if (verified && sn.changed) await this.#accepted(sn.userId);
    await this.#trust.setVerified(sn.userId, verified);
  }

  /** Compares a scanned QR payload with the safety number; marks the contact verified if they match. */
  async verifyQr(username: string, payload: string): Promise<boolean> {
    const sn = await this.of(username);
    if (payload.trim() !== sn.qr) return false;
    await this.setVerified(username, true);
    return true;
  }

  /** Accepts a contact's new account key (after comparing the new number, or deciding not to). */
  async acceptChange(username: string): Promise<void> {
    const sn = await this.of(username);
    if (!sn.changed) return;
    await this.#accepted(sn.userId);
  }

  async #accepted(userId: string): Promise<void> {
    if (!(await this.#trust.acknowledge(userId))) return;
    await this.#announce(userId, {
      event: "identity-accepted",
      userId,
      username: await this.#directory.usernameOf(userId),
    });
    this.#ctx.events.emit("safety", { userId, username: await this.#directory.usernameOf(userId) });
  }

  /** A contact's account key changed: a warning line in every chat this device has with them. */
  async identityChanged(userId: string): Promise<void> {
    const username = await this.#directory.usernameOf(userId);
    await this.#announce(userId, { event: "identity-changed", userId, username });
    this.#ctx.events.emit("safety", { userId, username });
  }

  /** A chat was joined or made: it shows the warning too if a member's change is still pending. */
  async noteInNewChat(chat: string): Promise<void> {
    for (const userId of await this.#trust.pendingChanges(await this.#ctx.groups.memberUserIds(chat))) {
      const username = await this.#directory.usernameOf(userId);
      await this.#append(chat, userId, { event: "identity-changed", userId, username });
    }
  }

  async #announce(userId: string, event: SystemEvent): Promise<void> {
    for (const c of await this.#ctx.chats.listChats()) {
      if (!c.active) continue;
      const members = c.memberIds ?? (await this.#ctx.groups.memberUserIds(c.id));
      if (members.includes(userId)) await this.#append(c.id, userId, event);
    }
  }

  async #append(chat: string, userId: string, system: SystemEvent): Promise<void> {
    const username = await this.#directory.usernameOf(userId);
    await appendSystemLine(this.#ctx, { chat, from: username, fromUserId: userId, system });
  }

  /** Devices the server offered that were refused: a warning and (in a chat) a line, for each. */
  async refused(
    chat: string | undefined,
    refused: Refusal[],
    options: { warned?: boolean } = {},
  ): Promise<void> {
    for (const r of refused) {
      // A device under a changed key only waits for the change to be accepted; that has its own line.
      if (r.reason === "untrusted-key" && (await this.#trust.pendingChanges([r.userId])).length > 0) continue;
      const username = await this.#directory.usernameOf(r.userId);
      if (!options.warned)
        this.#ctx.warn(
          "device-refused",
          `refused a device offered as ${username}'s (${r.reason}): the server may be trying to add a device of its own`,
        );
      if (chat === undefined) continue;
      await this.#append(chat, r.userId, {
        event: "device-refused",
        userId: r.userId,
        username,
        deviceId: r.deviceId,
        reason: r.reason,
      });
    }
  }

  /** Members of the chat whose account key changed and who are not acknowledged yet. */
  async blockedBy(chat: string): Promise<string[]> {
    return this.#trust.pendingChanges(await this.#ctx.groups.memberUserIds(chat));
  }

  /** "identity-changed" if any of these users' account key changed and is not acknowledged yet. */
  async requireTrusted(userIds: string[]): Promise<void> {
    const pending = await this.#trust.pendingChanges(userIds);
    if (pending.length > 0) throw await this.changedError(pending);
  }

  /** The error a send gets while a member's change is not acknowledged. */
  async changedError(userIds: string[]): Promise<SdkError> {
    const names: string[] = [];
    for (const u of userIds) names.push(await this.#directory.usernameOf(u));
    return new SdkError(
      "identity-changed",
      `${names.join(", ")}'s safety number changed: compare it, then accept the change before sending`,
      { userIds },
    );
  }
}
