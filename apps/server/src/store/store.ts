import type { HistogramSnapshot } from "../metrics.ts";
import type { DeliveryKind } from "@sori/protocol";

/** A user account as stored. Passwords exist only as scrypt hashes. */
export type UserRecord = {
  userId: string;
  username: string;
  passwordHash: string;
  createdAt: number;
  /** The account's identity key (Ed25519 public), set by its first device; null before that. */
  accountKey: Uint8Array | null;
};

export type DeviceRecord = {
  deviceId: string;
  userId: string;
  name: string;
  signatureKey: Uint8Array;
  createdAt: number;
  lastSeenAt: number | null;
  /** Set once the device uploaded its first KeyPackages; before that nobody can add it to a chat. */
  activatedAt: number | null;
  revokedAt: number | null;
  /** Set once the account signed the device in (its certificate checked); before that it can do nothing. */
  approvedAt: number | null;
  /** The account key's signature over the device (see deviceCertificateMessage). */
  certificate: Uint8Array | null;
  /** What an approving device seals the account key to (login and link). */
  transferKey: Uint8Array | null;
  /** Link sign-ins: the HMAC the code's showing device checks, and that device. */
  linkProof: Uint8Array | null;
  linkedBy: string | null;
  /** The account key sealed to `transferKey` by the approving device. */
  sealedKey: Uint8Array | null;
};

export type SessionRecord = {
  deviceId: string;
  userId: string;
  expiresAt: number;
  /** The account signed the device in; a waiting device can only ask about its approval. */
  approved: boolean;
};

export type GroupRecord = {
  groupId: string;
  epoch: number;
  members: { deviceId: string; userId: string; revoked: boolean }[];
};

/** One entry of a device's queue, as pushed to it. */
export type QueuedDelivery = {
  seq: number;
  kind: DeliveryKind;
  groupId: string | null;
  messageId: string;
  senderUserId: string;
  senderDeviceId: string;
  epoch: number | null;
  data: Uint8Array | null;
  sentAt: number;
};

/** A message to fan out: stored once, queued for each recipient device. */
export type OutgoingMessage = {
  kind: DeliveryKind;
  groupId: string | null;
  messageId: string;
  senderUserId: string;
  senderDeviceId: string;
  epoch: number | null;
  data: Uint8Array | null;
  sentAt: number;
  recipients: string[];
  /** A disappearing message: undelivered copies are purged at this time (ms). */
  expiresAt?: number | null;
  /** Attachments the message refers to (ids of complete blobs); each recipient must fetch them. */
  blobs?: string[];
  /** When those blobs expire if nobody fetches them (the message's expiry, or retention). */
  blobsExpireAt?: number;
};

/** A device-link code as an existing device creates it (the code itself only as a hash). */
export type NewDeviceLink = {
  codeHash: string;
  userId: string;
  deviceId: string;
  createdAt: number;
  expiresAt: number;
};

/** A blob as its upload starts: nothing received yet, not referenced by any message. */
export type NewBlob = Omit<BlobRecord, "received" | "referenced">;

/** Caps on the bytes of attachments stored, checked in the transaction that adds a blob (0: none). */
export type BlobQuota = {
  /** All uploads of the uploading device's account together. */
  accountBytes: number;
  /** All uploads on the server together. */
  totalBytes: number;
};

/** A new blob is refused, with nothing written, if it would take its account or the server past a cap. */
export type CreateBlobOutcome =
  | { status: "created" }
  | { status: "account-full"; stored: number }
  | { status: "server-full"; stored: number };

/** An encrypted attachment's bookkeeping; the bytes are files under <data>/blobs. */
export type BlobRecord = {
  blobId: string;
  ownerDevice: string;
  size: number;
  received: number;
  /** Some message refers to it. */
  referenced: boolean;
  createdAt: number;
  expiresAt: number;
};

/**
 * A device's Web Push subscription (RFC 8030): where its push service takes messages for it, and the
 * keys its pushes are encrypted to (RFC 8291). One per device; `userId` is the device's account.
 */
export type PushSubscriptionRecord = {
  deviceId: string;
  userId: string;
  endpoint: string;
  /** The subscription's P-256 public key, uncompressed. */
  p256dh: Uint8Array;
  /** Its 16-byte authentication secret. */
  auth: Uint8Array;
  createdAt: number;
};

/** What a write produced: entries now queued, per recipient device, for the live push. */
export type Enqueued = { deviceId: string; delivery: QueuedDelivery }[];

export type NewDevice = {
  deviceId: string;
  userId: string;
  name: string;
  signatureKey: Uint8Array;
  createdAt: number;
  transferKey?: Uint8Array | undefined;
  linkProof?: Uint8Array | undefined;
};

/** A device's sign-in as the account's approved devices are told of it. */
export type DeviceNotice = Omit<OutgoingMessage, "recipients">;

/** Adding a device beyond the account's cap is refused, with nothing written. */
export type AddDeviceOutcome = { status: "added"; enqueued: Enqueued } | { status: "too-many-devices" };

/** An account key set by a new account's device, or a new one made by a device that could not be approved. */
/** A device setting its account's identity key, with its own certificate under that key. */
export type AccountKeyChange = {
  userId: string;
  deviceId: string;
  accountKey: Uint8Array;
  certificate: Uint8Array;
  now: number;
};

export type AccountKeyOutcome =
  | { status: "set"; revoked: string[]; enqueued: Enqueued }
  | { status: "conflict" }
  | { status: "not-pending" };

export type NewSession = { tokenHash: string; deviceId: string; createdAt: number; expiresAt: number };

export type SendOutcome =
  | { status: "accepted"; sentAt: number; enqueued: Enqueued }
  | { status: "duplicate"; sentAt: number }
  | { status: "not-member" }
  | { status: "stale-epoch"; epoch: number }
  | { status: "group-outdated"; missingDevices: string[]; revokedDevices: string[] }
  | { status: "blob-missing" }
  /** An attachment neither uploaded by the sending device nor sent to it. */
  | { status: "blob-forbidden" };

export type CommitOutcome =
  | { status: "accepted"; epoch: number; enqueued: Enqueued }
  | { status: "duplicate"; epoch: number }
  | { status: "not-member" }
  | { status: "not-found" }
  | { status: "stale-epoch"; epoch: number };

export type CreateGroupOutcome =
  | { status: "created"; epoch: number; enqueued: Enqueued }
  | { status: "duplicate"; epoch: number }
  | { status: "exists" };

/**
 * Everything the server persists, behind one interface so SQLite (default) and PostgreSQL (scale-out)
 * are interchangeable. Every method that writes is atomic: it either happens whole or not at all,
 * and a resolved promise means it is durable. Group writes apply the Delivery Service's rules
 * (delivery-rules.ts) inside that transaction.
 */
export type Store = {
  createUserWithDevice(
    user: UserRecord,
    device: NewDevice,
    session: NewSession,
  ): Promise<"created" | "username-taken">;
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /**
   * Adds a device waiting for approval, unless the account already has `maxDevices` devices (signed
   * in, approved or waiting); queues `notice` for the account's approved devices.
   */
  addDevice(
    device: NewDevice,
    session: NewSession,
    maxDevices: number,
    notice: DeviceNotice,
  ): Promise<AddDeviceOutcome>;
  /**
   * Sets the account key of an account that has none, approving its (only) device with `certificate`
   * (checked by the caller). The same key again is a resend and succeeds; another one is a conflict.
   */
  initAccountKey(change: AccountKeyChange): Promise<AccountKeyOutcome>;
  /**
   * A waiting device replaces the account key: it is approved with `certificate` (checked by the
   * caller) and every other device of the account is revoked. Resending the same is a success.
   */
  resetAccountKey(change: AccountKeyChange): Promise<AccountKeyOutcome>;
  /**
   * Approves a waiting device of `userId` (certificate checked by the caller), keeping the sealed
   * account key for it and queueing `notice` for it. False if no such device waits.
   */
  approveDevice(
    userId: string,
    deviceId: string,
    certificate: Uint8Array,
    sealedKey: Uint8Array,
    now: number,
    notice: DeviceNotice,
  ): Promise<{ approved: boolean; enqueued: Enqueued }>;
  /** Sets a new password hash and revokes every other device of the account; returns them. */
  setPassword(userId: string, passwordHash: string, keepDeviceId: string, now: number): Promise<string[]>;
  /** Revokes devices that have waited for approval since before `olderThan`; returns them. */
  expirePendingDevices(olderThan: number, now: number): Promise<string[]>;
  findSession(tokenHash: string, now: number): Promise<SessionRecord | undefined>;
  /** Moves a session's expiry later (sliding expiry); never earlier. */
  extendSession(tokenHash: string, expiresAt: number): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Marks a device revoked, deletes its sessions, KeyPackages, queue and push subscription. */
  revokeDevice(deviceId: string, now: number): Promise<void>;
  listDevices(userId: string): Promise<DeviceRecord[]>;
  touchDevice(deviceId: string, now: number): Promise<void>;

  /**
   * Stores KeyPackages. The first upload with a last-resort package activates the device and queues
   * `activationNotice` for the user's other active devices (so they add it to their chats).
   */
  addKeyPackages(
    deviceId: string,
    keyPackages: Uint8Array[],
    lastResort: Uint8Array | undefined,
    activationNotice: OutgoingMessage,
    /** More one-time KeyPackages than this fails with StoreError "limit", checked atomically. */
    maxOneTime: number,
  ): Promise<{ remaining: number; enqueued: Enqueued }>;
  keyPackageStatus(deviceId: string): Promise<{ remaining: number; hasLastResort: boolean }>;
  /**
   * Consumes one KeyPackage per active device (the last-resort one stays); unknown/revoked devices are
   * `missing`. For the devices in `lastResortOnly` the last-resort KeyPackage is handed out (not
   * consumed) even while one-time ones are left.
   */
  claimKeyPackages(
    deviceIds: string[],
    lastResortOnly?: readonly string[],
  ): Promise<{
    claimed: { deviceId: string; userId: string; keyPackage: Uint8Array; remaining: number }[];
    missing: string[];
  }>;

  usersByUsername(usernames: string[]): Promise<{ user: UserRecord; devices: DeviceRecord[] }[]>;
  usersById(userIds: string[]): Promise<{ user: UserRecord; devices: DeviceRecord[] }[]>;
  devicesById(deviceIds: string[]): Promise<DeviceRecord[]>;

  createGroup(
    groupId: string,
    epoch: number,
    creator: { deviceId: string; userId: string },
    members: string[],
    welcome: OutgoingMessage | undefined,
  ): Promise<CreateGroupOutcome>;
  getGroup(groupId: string): Promise<GroupRecord | undefined>;
  groupsOfDevice(deviceId: string): Promise<{ groupId: string; epoch: number }[]>;
  applyCommit(
    groupId: string,
    fromEpoch: number,
    add: string[],
    remove: string[],
    commit: OutgoingMessage,
    welcome: OutgoingMessage | undefined,
  ): Promise<CommitOutcome>;
  acceptMessage(message: Omit<OutgoingMessage, "recipients">): Promise<SendOutcome>;
  /**
   * Queues `notice` for the group's other member devices if its sender is an unrevoked member (at any
   * epoch: a rejoin request comes from a device that fell behind).
   */
  notifyGroup(
    groupId: string,
    notice: Omit<OutgoingMessage, "recipients">,
  ): Promise<{ status: "sent"; enqueued: Enqueued } | { status: "not-member" }>;

  /** Queues `notice` for every approved, unrevoked device of the account `userId`. */
  notifyAccount(userId: string, notice: Omit<OutgoingMessage, "recipients">): Promise<Enqueued>;

  /** Queue entries of a device after `afterSeq`, oldest first. */
  pending(deviceId: string, afterSeq: number, limit: number): Promise<QueuedDelivery[]>;
  /** Removes a device's queue entries up to `upTo`; returns how many. */
  ack(deviceId: string, upTo: number): Promise<number>;

  /**
   * Forgets up to `limit` message ids accepted before `olderThan` (ms): resends are recognised only
   * within that window. Returns how many were removed; call again while it returns `limit`.
   */
  pruneSeen(olderThan: number, limit: number): Promise<number>;
  /**
   * Proves the database answers (a read through the same path as every request) and reports its
   * state for /metrics and /healthz.
   */
  stats(): Promise<StoreStats>;

  /** Deletes up to `limit` messages (and their queue entries) whose disappearing time has come. */
  purgeExpiredMessages(now: number, limit: number): Promise<number>;
  /** Deletes up to `limit` messages accepted before `olderThan` that some device never fetched. */
  purgeUndelivered(olderThan: number, limit: number): Promise<number>;
  /**
   * Records a new upload unless its size would take the account's or the server's stored attachment
   * bytes (every blob record, fetched or not, counted at its full size) past `quota`.
   */
  createBlob(blob: NewBlob, quota: BlobQuota): Promise<CreateBlobOutcome>;
  getBlob(blobId: string): Promise<BlobRecord | undefined>;
  setBlobReceived(blobId: string, received: number): Promise<void>;
  /** Uploads of a device that no message refers to yet (and that have not expired). */
  unsentBlobs(deviceId: string, now: number): Promise<number>;
  /** A recipient device fetched the whole blob; once all have, it expires at `now`. */
  blobFetched(blobId: string, deviceId: string, now: number): Promise<void>;
  /**
   * Blobs whose time has come: expired at `now`, or uploaded before `createdBefore` (the retention
   * cut-off, whatever their expiry says).
   */
  expiredBlobs(now: number, createdBefore: number, limit: number): Promise<string[]>;
  deleteBlobRecords(blobIds: string[]): Promise<void>;
  /** Stores a device-link code (hashed) an existing device of `userId` shows; drops expired ones. */
  createDeviceLink(link: NewDeviceLink): Promise<void>;
  /**
   * Uses a link code once: if it is valid (not expired, its device not revoked) adds `device` with
   * `session` to the code's account and returns the user id; undefined otherwise.
   */
  claimDeviceLink(
    codeHash: string,
    now: number,
    device: Omit<NewDevice, "userId">,
    session: NewSession,
    maxDevices: number,
    notice: DeviceNotice,
  ): Promise<
    | { status: "added"; userId: string; enqueued: Enqueued }
    | { status: "invalid" }
    | { status: "too-many-devices" }
  >;
  /**
   * Keeps a device's push subscription, replacing the one it had. "no-device" (nothing written) when
   * the device is unknown or revoked: a revoked device is never woken.
   */
  setPushSubscription(subscription: Omit<PushSubscriptionRecord, "userId">): Promise<"saved" | "no-device">;
  /** The push subscriptions of these devices (those that have one). */
  pushSubscriptions(deviceIds: string[]): Promise<PushSubscriptionRecord[]>;
  /**
   * Removes a device's push subscription; with `endpoint`, only if it is still that one (a push service
   * said it is gone, and the device may have subscribed anew meanwhile). Whether one was removed.
   */
  deletePushSubscription(deviceId: string, endpoint?: string): Promise<boolean>;
  close(): Promise<void>;
};

/** The store's state for monitoring. */
export type StoreStats = {
  /** Queue entries not yet acknowledged, over all devices. */
  queuedEntries: number;
  /** Writes waiting for the next transaction. */
  pendingWrites: number;
  /** Writes committed and failed since start. */
  writesCommitted: number;
  writesFailed: number;
  /** False once a failed sync stopped all writes (SqliteStore, durability full); until a restart. */
  writable: boolean;
  /** Duration of each batch transaction (BEGIN until durable: COMMIT, then the WAL fsync), seconds. */
  commitSeconds: HistogramSnapshot;
};
