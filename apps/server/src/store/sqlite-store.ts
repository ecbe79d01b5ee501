import { decideCommit, decideCreateGroup, decideSend, memberUsers, otherMembers } from "./delivery-rules.ts";
import { Accounts } from "./sqlite/accounts.ts";
import { Blobs } from "./sqlite/blobs.ts";
import { databaseFiles, type DatabaseOptions, openDatabase } from "./sqlite/bootstrap.ts";
import { DeviceLinks } from "./sqlite/device-links.ts";
import { type EngineOptions, SqliteEngine } from "./sqlite/engine.ts";
import { Groups } from "./sqlite/groups.ts";
import { KeyPackages } from "./sqlite/key-packages.ts";
import { MembershipCache } from "./sqlite/membership-cache.ts";
import { Messages } from "./sqlite/messages.ts";
import { PushSubscriptions } from "./sqlite/push-subscriptions.ts";
import type {
  AccountKeyChange,
  AccountKeyOutcome,
  AddDeviceOutcome,
  DeviceNotice,
  BlobQuota,
  BlobRecord,
  CommitOutcome,
  CreateBlobOutcome,
  CreateGroupOutcome,
  DeviceRecord,
  Enqueued,
  GroupRecord,
  NewBlob,
  NewDevice,
  NewDeviceLink,
  NewSession,
  OutgoingMessage,
  PushSubscriptionRecord,
  QueuedDelivery,
  SendOutcome,
  SessionRecord,
  Store,
  StoreStats,
  UserRecord,
} from "./store.ts";
import { StoreError } from "./store-error.ts";

/** Where the database lives, how SQLite may use memory and disk, and how writes become durable. */
export type SqliteStoreOptions = DatabaseOptions & EngineOptions;

/**
 * The default store: one SQLite file in WAL mode (sqlite/bootstrap.ts), one batched writer that
 * answers only once a write is durable (sqlite/engine.ts), and a repository per group of tables
 * (sqlite/accounts.ts and its neighbours). Each Store method is one transaction composed of
 * repository statements, so it happens whole or not at all.
 */
export class SqliteStore implements Store {
  readonly #engine: SqliteEngine;
  /** Invariant: every write to groups, group_members or devices.revoked_at/activated_at invalidates it. */
  readonly #membership = new MembershipCache();
  readonly #accounts: Accounts;
  readonly #keyPackages: KeyPackages;
  readonly #groups: Groups;
  readonly #messages: Messages;
  readonly #blobs: Blobs;
  readonly #links: DeviceLinks;
  readonly #push: PushSubscriptions;

  constructor(options: SqliteStoreOptions) {
    const db = openDatabase(options);
    const files = databaseFiles(options.dataDir);
    this.#engine = new SqliteEngine(db, files, options, () => this.#membership.clear());
    this.#accounts = new Accounts(this.#engine, this.#membership);
    this.#keyPackages = new KeyPackages(this.#engine);
    this.#groups = new Groups(this.#engine, this.#membership);
    this.#messages = new Messages(this.#engine);
    this.#blobs = new Blobs(this.#engine);
    this.#links = new DeviceLinks(this.#engine);
    this.#push = new PushSubscriptions(this.#engine);
  }

  /** The database file, for tests that inspect what is at rest. */
  static databaseFiles(dataDir: string): string[] {
    const { db, wal, shm } = databaseFiles(dataDir);
    return [db, wal, shm];
  }

  #write<T>(run: () => T): Promise<T> {
    return this.#engine.write(run);
  }

  // --- accounts ---------------------------------------------------------------------------------

  createUserWithDevice(
    user: UserRecord,
    device: NewDevice,
    session: NewSession,
  ): Promise<"created" | "username-taken"> {
    return this.#write(() => {
      if (!this.#accounts.insertUser(user)) return "username-taken" as const;
      this.#accounts.insertDevice(device);
      this.#accounts.insertSession(session);
      return "created" as const;
    });
  }

  findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return Promise.resolve(this.#accounts.userByUsername(username));
  }

  addDevice(
    device: NewDevice,
    session: NewSession,
    maxDevices: number,
    notice: DeviceNotice,
  ): Promise<AddDeviceOutcome> {
    return this.#write((): AddDeviceOutcome => {
      if (this.#accounts.liveDeviceCount(device.userId) >= maxDevices) return { status: "too-many-devices" };
      this.#accounts.insertDevice(device);
      this.#accounts.insertSession(session);
      return { status: "added", enqueued: this.#tellApproved(device.userId, device.deviceId, notice) };
    });
  }

  /** Queues a notice for the user's approved devices (a device of theirs waits for approval). */
  #tellApproved(userId: string, deviceId: string, notice: DeviceNotice): Enqueued {
    const recipients = this.#accounts.approvedDevicesOf(userId, deviceId);
    return recipients.length > 0 ? this.#messages.enqueue({ ...notice, recipients }) : [];
  }

  /** A user and one of their devices that is not revoked, or undefined. */
  #liveDevice(userId: string, deviceId: string): { user: UserRecord; device: DeviceRecord } | undefined {
    const user = this.#accounts.userById(userId);
    const device = this.#accounts.device(deviceId);
    return user && device && device.revokedAt === null ? { user, device } : undefined;
  }

  initAccountKey({
    userId,
    deviceId,
    accountKey,
    certificate,
    now,
  }: AccountKeyChange): Promise<AccountKeyOutcome> {
    return this.#write((): AccountKeyOutcome => {
      const found = this.#liveDevice(userId, deviceId);
      if (!found) return { status: "not-pending" };
      const { user, device } = found;
      if (user.accountKey) {
        // A resend after a lost answer: the same key, and this device already approved with it.
        return sameBytes(user.accountKey, accountKey) && device.approvedAt !== null
          ? { status: "set", revoked: [], enqueued: [] }
          : { status: "conflict" };
      }
      if (device.approvedAt !== null) return { status: "conflict" };
      this.#accounts.setAccountKey(userId, accountKey);
      this.#accounts.approve(deviceId, certificate, null, now);
      return { status: "set", revoked: [], enqueued: [] };
    });
  }

  resetAccountKey({
    userId,
    deviceId,
    accountKey,
    certificate,
    now,
  }: AccountKeyChange): Promise<AccountKeyOutcome> {
    return this.#write((): AccountKeyOutcome => {
      const found = this.#liveDevice(userId, deviceId);
      if (!found) return { status: "not-pending" };
      const { user, device } = found;
      if (device.approvedAt !== null) {
        return user.accountKey && sameBytes(user.accountKey, accountKey)
          ? { status: "set", revoked: [], enqueued: [] }
          : { status: "not-pending" };
      }
      const revoked = this.#accounts.otherLiveDevices(userId, deviceId);
      for (const other of revoked) this.#revoke(other, now);
      this.#accounts.setAccountKey(userId, accountKey);
      this.#accounts.approve(deviceId, certificate, null, now);
      return { status: "set", revoked, enqueued: [] };
    });
  }

  approveDevice(
    userId: string,
    deviceId: string,
    certificate: Uint8Array,
    sealedKey: Uint8Array,
    now: number,
    notice: DeviceNotice,
  ): Promise<{ approved: boolean; enqueued: Enqueued }> {
    return this.#write(() => {
      const device = this.#accounts.device(deviceId);
      if (!device || device.userId !== userId || device.revokedAt !== null)
        return { approved: false, enqueued: [] };
      // A resend: approved already, with this very certificate.
      if (device.approvedAt !== null)
        return {
          approved: device.certificate !== null && sameBytes(device.certificate, certificate),
          enqueued: [],
        };
      this.#accounts.approve(deviceId, certificate, sealedKey, now);
      return { approved: true, enqueued: this.#messages.enqueue({ ...notice, recipients: [deviceId] }) };
    });
  }

  setPassword(userId: string, passwordHash: string, keepDeviceId: string, now: number): Promise<string[]> {
    return this.#write(() => {
      this.#accounts.setPasswordHash(userId, passwordHash);
      const revoked = this.#accounts.otherLiveDevices(userId, keepDeviceId);
      for (const d of revoked) this.#revoke(d, now);
      return revoked;
    });
  }

  expirePendingDevices(olderThan: number, now: number): Promise<string[]> {
    return this.#write(() => {
      const stale = this.#accounts.stalePending(olderThan);
      for (const d of stale) this.#revoke(d, now);
      return stale;
    });
  }

  findSession(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    return Promise.resolve(this.#accounts.session(tokenHash, now));
  }

  extendSession(tokenHash: string, expiresAt: number): Promise<void> {
    return this.#write(() => this.#accounts.extendSession(tokenHash, expiresAt));
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.#write(() => this.#accounts.deleteSession(tokenHash));
  }

  revokeDevice(deviceId: string, now: number): Promise<void> {
    return this.#write(() => this.#revoke(deviceId, now));
  }

  /**
   * Inside a write: the device is revoked, with its sessions, KeyPackages, queue, blobs, links and
   * push subscription.
   */
  #revoke(deviceId: string, now: number): void {
    this.#accounts.revoke(deviceId, now);
    this.#push.delete(deviceId);
    this.#keyPackages.deleteAllOf(deviceId);
    this.#messages.ack(deviceId, Number.MAX_SAFE_INTEGER);
    // A revoked device will fetch nothing and link nothing.
    this.#blobs.forgetDevice(deviceId, now);
    this.#links.deleteOf(deviceId);
  }

  listDevices(userId: string): Promise<DeviceRecord[]> {
    return Promise.resolve(this.#accounts.devicesOf(userId));
  }

  touchDevice(deviceId: string, now: number): Promise<void> {
    return this.#write(() => this.#accounts.touch(deviceId, now));
  }

  // --- KeyPackages ------------------------------------------------------------------------------

  addKeyPackages(
    deviceId: string,
    keyPackages: Uint8Array[],
    lastResort: Uint8Array | undefined,
    notice: OutgoingMessage,
    maxOneTime: number,
  ): Promise<{ remaining: number; enqueued: Enqueued }> {
    return this.#write(() => {
      this.#keyPackages.addOneTime(deviceId, keyPackages, maxOneTime);
      let enqueued: Enqueued = [];
      if (lastResort) {
        this.#keyPackages.setLastResort(deviceId, lastResort);
        if (this.#accounts.activate(deviceId, notice.sentAt)) {
          const others = this.#accounts.otherActiveDevices(deviceId);
          if (others.length > 0) enqueued = this.#messages.enqueue({ ...notice, recipients: others });
        }
      }
      return { remaining: this.#keyPackages.countOneTime(deviceId), enqueued };
    });
  }

  keyPackageStatus(deviceId: string): Promise<{ remaining: number; hasLastResort: boolean }> {
    const hasLastResort = this.#keyPackages.hasLastResort(deviceId);
    return Promise.resolve({ remaining: this.#keyPackages.countOneTime(deviceId), hasLastResort });
  }

  claimKeyPackages(
    deviceIds: string[],
    lastResortOnly: readonly string[] = [],
  ): ReturnType<Store["claimKeyPackages"]> {
    const reusable = new Set(lastResortOnly);
    return this.#write(() => {
      const claimed: { deviceId: string; userId: string; keyPackage: Uint8Array; remaining: number }[] = [];
      const missing: string[] = [];
      for (const deviceId of new Set(deviceIds)) {
        const userId = this.#accounts.activeDeviceUser(deviceId);
        const keyPackage =
          userId === undefined ? undefined : this.#keyPackages.take(deviceId, reusable.has(deviceId));
        if (userId === undefined || !keyPackage) {
          missing.push(deviceId);
          continue;
        }
        claimed.push({ deviceId, userId, keyPackage, remaining: this.#keyPackages.countOneTime(deviceId) });
      }
      return { claimed, missing };
    });
  }

  // --- directory --------------------------------------------------------------------------------

  usersByUsername(usernames: string[]): ReturnType<Store["usersByUsername"]> {
    const out = [];
    for (const name of new Set(usernames.map((u) => u.toLowerCase()))) {
      const user = this.#accounts.userByUsername(name);
      if (user) out.push({ user, devices: this.#accounts.devicesOf(user.userId) });
    }
    return Promise.resolve(out);
  }

  usersById(userIds: string[]): ReturnType<Store["usersById"]> {
    const out = [];
    for (const id of new Set(userIds)) {
      const user = this.#accounts.userById(id);
      if (user) out.push({ user, devices: this.#accounts.devicesOf(user.userId) });
    }
    return Promise.resolve(out);
  }

  devicesById(deviceIds: string[]): Promise<DeviceRecord[]> {
    const out: DeviceRecord[] = [];
    for (const id of new Set(deviceIds)) {
      const device = this.#accounts.device(id);
      if (device) out.push(device);
    }
    return Promise.resolve(out);
  }

  // --- groups (MLS Delivery Service) ------------------------------------------------------------

  createGroup(
    groupId: string,
    epoch: number,
    creator: { deviceId: string; userId: string },
    members: string[],
    welcome: OutgoingMessage | undefined,
  ): Promise<CreateGroupOutcome> {
    return this.#write((): CreateGroupOutcome => {
      const decision = decideCreateGroup(
        { creatorDeviceId: creator.deviceId, members },
        {
          existingEpoch: this.#groups.epoch(groupId),
          welcomeSeen:
            welcome !== undefined && this.#messages.seen(creator.deviceId, welcome.messageId) !== undefined,
        },
      );
      if (decision.status !== "create") return decision;
      const now = welcome?.sentAt ?? Date.now();
      this.#groups.insert(groupId, epoch, now);
      for (const d of decision.members) this.#groups.addMember(groupId, d);
      if (!welcome) return { status: "created", epoch, enqueued: [] };
      this.#messages.markSeen(creator.deviceId, welcome.messageId, now, epoch);
      return { status: "created", epoch, enqueued: this.#messages.enqueue(welcome) };
    });
  }

  getGroup(groupId: string): Promise<GroupRecord | undefined> {
    const epoch = this.#groups.epoch(groupId);
    if (epoch === undefined) return Promise.resolve(undefined);
    return Promise.resolve({ groupId, epoch, members: this.#groups.members(groupId) });
  }

  groupsOfDevice(deviceId: string): Promise<{ groupId: string; epoch: number }[]> {
    return Promise.resolve(this.#groups.ofDevice(deviceId));
  }

  applyCommit(
    groupId: string,
    fromEpoch: number,
    add: string[],
    remove: string[],
    commit: OutgoingMessage,
    welcome: OutgoingMessage | undefined,
  ): Promise<CommitOutcome> {
    return this.#write((): CommitOutcome => {
      const epoch = this.#groups.epoch(groupId);
      const decision = decideCommit(
        { senderDeviceId: commit.senderDeviceId, fromEpoch, readded: add.filter((d) => remove.includes(d)) },
        {
          group: epoch === undefined ? undefined : { epoch, members: this.#groups.members(groupId) },
          seen: this.#messages.seen(commit.senderDeviceId, commit.messageId),
        },
      );
      if (decision.status !== "accept") return decision;
      const { recipients } = decision;
      for (const d of remove) this.#groups.removeMember(groupId, d);
      for (const d of add) this.#groups.addMember(groupId, d);
      this.#groups.setEpoch(groupId, decision.epoch);
      this.#messages.markSeen(commit.senderDeviceId, commit.messageId, commit.sentAt, decision.epoch);
      const enqueued = recipients.length > 0 ? this.#messages.enqueue({ ...commit, recipients }) : [];
      if (welcome && add.length > 0)
        enqueued.push(...this.#messages.enqueue({ ...welcome, recipients: add }));
      return { status: "accepted", epoch: decision.epoch, enqueued };
    });
  }

  notifyGroup(
    groupId: string,
    notice: Omit<OutgoingMessage, "recipients">,
  ): ReturnType<Store["notifyGroup"]> {
    return this.#write(() => {
      const group = this.#groups.state(groupId);
      if (!group?.members.some((m) => m.deviceId === notice.senderDeviceId && !m.revoked))
        return { status: "not-member" as const };
      const recipients = otherMembers(group, notice.senderDeviceId);
      return {
        status: "sent" as const,
        enqueued: recipients.length > 0 ? this.#messages.enqueue({ ...notice, recipients }) : [],
      };
    });
  }

  notifyAccount(userId: string, notice: Omit<OutgoingMessage, "recipients">): Promise<Enqueued> {
    return this.#write(() => {
      const recipients = this.#accounts.approvedDevicesOf(userId, "");
      return recipients.length > 0 ? this.#messages.enqueue({ ...notice, recipients }) : [];
    });
  }

  acceptMessage(message: Omit<OutgoingMessage, "recipients">): Promise<SendOutcome> {
    return this.#write((): SendOutcome => {
      const group = this.#groups.state(message.groupId ?? "");
      const decision = decideSend(message, {
        seen: this.#messages.seen(message.senderDeviceId, message.messageId),
        group,
        activeDevices: new Map(memberUsers(group).map((u) => [u, this.#accounts.activeDevicesOf(u)])),
        blobsComplete: message.blobs === undefined || this.#blobs.allComplete(message.blobs),
        blobsSendable:
          message.blobs === undefined || this.#blobs.sendableBy(message.blobs, message.senderDeviceId),
      });
      if (decision.status !== "accept") return decision;
      const { recipients } = decision;
      if (message.blobs)
        this.#blobs.reference(message.blobs, recipients, message.blobsExpireAt ?? message.sentAt);
      this.#messages.markSeen(message.senderDeviceId, message.messageId, message.sentAt, decision.epoch);
      const enqueued = recipients.length > 0 ? this.#messages.enqueue({ ...message, recipients }) : [];
      return { status: "accepted", sentAt: message.sentAt, enqueued };
    });
  }

  // --- queues -----------------------------------------------------------------------------------

  pending(deviceId: string, afterSeq: number, limit: number): Promise<QueuedDelivery[]> {
    return this.#engine.durableRead(() => this.#messages.pending(deviceId, afterSeq, limit, Date.now()));
  }

  ack(deviceId: string, upTo: number): Promise<number> {
    return this.#write(() => this.#messages.ack(deviceId, upTo));
  }

  pruneSeen(olderThan: number, limit: number): Promise<number> {
    return this.#write(() => this.#messages.pruneSeen(olderThan, limit));
  }

  stats(): Promise<StoreStats> {
    if (this.#engine.closed) return Promise.reject(new StoreError("closed", "store is closed"));
    try {
      return Promise.resolve({
        queuedEntries: this.#messages.queuedEntries(),
        ...this.#engine.writerStats(),
      });
    } catch (error) {
      return Promise.reject(new StoreError("unavailable", "database is unavailable", { cause: error }));
    }
  }

  // --- disappearing messages, retention, attachments, device links ------------------------------

  purgeExpiredMessages(now: number, limit: number): Promise<number> {
    // A read first: most seconds nothing expires, and then no write transaction is opened.
    const due = this.#messages.dueToExpire(now, limit);
    if (due.length === 0) return Promise.resolve(0);
    return this.#write(() => this.#messages.delete(due));
  }

  purgeUndelivered(olderThan: number, limit: number): Promise<number> {
    const due = this.#messages.sentBefore(olderThan, limit);
    if (due.length === 0) return Promise.resolve(0);
    return this.#write(() => this.#messages.delete(due));
  }

  createBlob(blob: NewBlob, quota: BlobQuota): Promise<CreateBlobOutcome> {
    return this.#write((): CreateBlobOutcome => {
      // Inside the write: two uploads at once cannot pass a cap together.
      const account = quota.accountBytes > 0 ? this.#blobs.accountBytes(blob.ownerDevice) : 0;
      if (quota.accountBytes > 0 && account + blob.size > quota.accountBytes)
        return { status: "account-full", stored: account };
      const total = quota.totalBytes > 0 ? this.#blobs.totalBytes() : 0;
      if (quota.totalBytes > 0 && total + blob.size > quota.totalBytes)
        return { status: "server-full", stored: total };
      this.#blobs.create(blob);
      return { status: "created" };
    });
  }

  getBlob(blobId: string): Promise<BlobRecord | undefined> {
    return Promise.resolve(this.#blobs.get(blobId));
  }

  unsentBlobs(deviceId: string, now: number): Promise<number> {
    return Promise.resolve(this.#blobs.unsent(deviceId, now));
  }

  setBlobReceived(blobId: string, received: number): Promise<void> {
    return this.#write(() => this.#blobs.setReceived(blobId, received));
  }

  blobFetched(blobId: string, deviceId: string, now: number): Promise<void> {
    return this.#write(() => this.#blobs.fetched(blobId, deviceId, now));
  }

  expiredBlobs(now: number, createdBefore: number, limit: number): Promise<string[]> {
    return Promise.resolve(this.#blobs.expired(now, createdBefore, limit));
  }

  deleteBlobRecords(blobIds: string[]): Promise<void> {
    return this.#write(() => this.#blobs.deleteRecords(blobIds));
  }

  createDeviceLink(link: NewDeviceLink): Promise<void> {
    return this.#write(() => this.#links.create(link));
  }

  claimDeviceLink(
    codeHash: string,
    now: number,
    device: Omit<NewDevice, "userId">,
    session: NewSession,
    maxDevices: number,
    notice: DeviceNotice,
  ): ReturnType<Store["claimDeviceLink"]> {
    return this.#write(() => {
      const link = this.#links.take(codeHash, now);
      if (!link) return { status: "invalid" as const };
      if (this.#accounts.liveDeviceCount(link.userId) >= maxDevices)
        return { status: "too-many-devices" as const };
      this.#accounts.insertDevice({ ...device, userId: link.userId, linkedBy: link.deviceId });
      this.#accounts.insertSession(session);
      const enqueued = this.#tellApproved(link.userId, device.deviceId, {
        ...notice,
        senderUserId: link.userId,
      });
      return { status: "added" as const, userId: link.userId, enqueued };
    });
  }

  // --- Web Push ---------------------------------------------------------------------------------

  setPushSubscription(subscription: Omit<PushSubscriptionRecord, "userId">): Promise<"saved" | "no-device"> {
    return this.#write(() => {
      if (this.#accounts.device(subscription.deviceId)?.revokedAt !== null) return "no-device" as const;
      this.#push.put(subscription);
      return "saved" as const;
    });
  }

  pushSubscriptions(deviceIds: string[]): Promise<PushSubscriptionRecord[]> {
    const out: PushSubscriptionRecord[] = [];
    for (const id of new Set(deviceIds)) {
      const s = this.#push.get(id);
      if (s) out.push(s);
    }
    return Promise.resolve(out);
  }

  deletePushSubscription(deviceId: string, endpoint?: string): Promise<boolean> {
    return this.#write(() => this.#push.delete(deviceId, endpoint));
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
