import {
  decodeGroup,
  encodeGroup,
  type GroupMember,
  groupEpoch,
  groupMembers,
  type MlsGroup,
} from "@sori/crypto";
import { SdkError } from "../errors.ts";
import type { ClientStorage } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";

/** How long a device waits for a group's commits to reach an epoch before giving up. */
export const CATCH_UP_TIMEOUT_MS = 10_000;

/**
 * This device's MLS group states, one per chat, and the one place that knows a group's members.
 * Members are read from a state once and kept until the state changes (every change goes through
 * here), so listing chats or counting receipts does not decode MLS states again and again.
 */
export class GroupStates {
  readonly #storage: ClientStorage;
  readonly #members = new Map<string, GroupMember[]>();
  #epochWaiters: (() => void)[] = [];
  #onMembersChanged: ((groupId: string, userIds: string[]) => Promise<void>) | undefined;

  constructor(storage: ClientStorage) {
    this.#storage = storage;
  }

  /** Called after a save that may have changed which users are members (to persist chat member lists). */
  onMembersChanged(listener: (groupId: string, userIds: string[]) => Promise<void>): void {
    this.#onMembersChanged = listener;
  }

  /** The group's state; "unknown-chat" if this device holds none (not a member, or removed). */
  async load(groupId: string): Promise<MlsGroup> {
    const group = await this.find(groupId);
    if (!group) throw new SdkError("unknown-chat", "this device has no keys for that chat");
    return group;
  }

  async find(groupId: string): Promise<MlsGroup | undefined> {
    const bytes = await this.#storage.get(StorageKeys.group(groupId));
    if (!bytes) return undefined;
    const group = decodeGroup(bytes);
    if (!this.#members.has(groupId)) this.#members.set(groupId, groupMembers(group));
    return group;
  }

  async has(groupId: string): Promise<boolean> {
    return (await this.#storage.get(StorageKeys.group(groupId))) !== undefined;
  }

  /** Stores a new state. It must be written before anything encrypted with it leaves the device. */
  async save(groupId: string, group: MlsGroup): Promise<void> {
    await this.#storage.put(StorageKeys.group(groupId), encodeGroup(group));
    await this.#setMembers(groupId, groupMembers(group));
  }

  /** Stores a state encoded earlier (a pending commit's), returning it decoded. */
  async saveEncoded(groupId: string, bytes: Uint8Array): Promise<MlsGroup> {
    const group = decodeGroup(bytes);
    await this.#storage.put(StorageKeys.group(groupId), bytes);
    await this.#setMembers(groupId, groupMembers(group));
    return group;
  }

  async #setMembers(groupId: string, members: GroupMember[]): Promise<void> {
    const before = this.#members.get(groupId);
    this.#members.set(groupId, members);
    // Most saves only advance a ratchet; only a changed set of users is worth a write elsewhere.
    if (before && userIdsOf(before).join() === userIdsOf(members).join()) return;
    await this.#onMembersChanged?.(groupId, userIdsOf(members));
  }

  /** Forgets the group's keys (this device left or was removed). */
  async remove(groupId: string): Promise<void> {
    await this.#storage.delete(StorageKeys.group(groupId));
    this.#members.delete(groupId);
  }

  /** The group's current epoch, or undefined if this device holds no state for it. */
  async epoch(groupId: string): Promise<number | undefined> {
    const group = await this.find(groupId);
    return group ? Number(groupEpoch(group)) : undefined;
  }

  /** The group's members (every device, in leaf order); [] if this device holds no state. */
  async members(groupId: string): Promise<GroupMember[]> {
    const cached = this.#members.get(groupId);
    if (cached) return cached;
    await this.find(groupId);
    return this.#members.get(groupId) ?? [];
  }

  /** The user ids among the members, each once, in leaf order of their first device. */
  async memberUserIds(groupId: string): Promise<string[]> {
    return userIdsOf(await this.members(groupId));
  }

  /** The members' user ids other than `self`. */
  async otherUserIds(groupId: string, self: string): Promise<Set<string>> {
    return new Set((await this.memberUserIds(groupId)).filter((u) => u !== self));
  }

  /**
   * Waits until this device has processed the group's commits up to `epoch` (bounded). A group this
   * device is not in returns at once, unless `orJoin`: then the Welcome may still be on its way.
   */
  async waitEpoch(groupId: string, epoch: number, options: { orJoin?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const current = await this.epoch(groupId);
      if (current === undefined ? !options.orJoin : current >= epoch) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 1000);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.#epochWaiters.push(done);
      });
    }
    throw new SdkError("timeout", "timed out catching up with the group's latest changes");
  }

  /** A group moved to a new epoch (or was joined): wake whoever waits for one. */
  notifyEpoch(): void {
    for (const w of this.#epochWaiters.splice(0)) w();
  }
}

function userIdsOf(members: GroupMember[]): string[] {
  return [...new Set(members.map((m) => m.userId))];
}
