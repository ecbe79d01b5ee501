import { createHash } from "node:crypto";
import {
  type ClientFrame,
  FEATURE_LEVEL,
  KEY_PACKAGE_LOW_WATER,
  type Limits,
  MAX_DISAPPEARING_TIMER_S,
  ProtocolError,
  type PushWakeKind,
  splitBridgedUsername,
  toBase64,
  type WireRelay,
  type WireResultOf,
} from "@sori/protocol";
import type { Logger } from "./logger.ts";
import { AccountAndAddressLimit, RateLimiter, refuseIfLimited } from "./rate-limiter.ts";
import type { Caller } from "./sessions.ts";
import { TokenBuckets } from "./token-bucket.ts";
import { checkSender, otherMembers, type SenderRefusal } from "./store/delivery-rules.ts";
import type {
  CommitOutcome,
  CreateGroupOutcome,
  DeviceRecord,
  Enqueued,
  OutgoingMessage,
  SendOutcome,
  Store,
  UserRecord,
} from "./store/store.ts";
import { type TurnConfig, turnCredentials } from "./turn-credentials.ts";
import { requireDeviceCertificate } from "./device-certificates.ts";
import { PushRequests } from "./push/push-requests.ts";

/** Where new queue entries go to reach online devices; the socket layer implements it. */
export type DeliveryNotifier = {
  enqueued(entries: Enqueued): void;
  keyPackagesLow(deviceId: string, remaining: number): void;
  /**
   * A transient message for whichever of these devices is connected now (not stored). With `wake`
   * (a ring), those of `wake.deviceIds` that are offline are woken and the ring is held for them.
   */
  relay(deviceIds: string[], frame: WireRelay, wake?: RelayWake): void;
  /** These devices were revoked (a reset, a rejected sign-in): close their connections. */
  signedOut(deviceIds: string[], reason: string): void;
};

/** The devices a ring is for (other users' member devices) and what they are woken as. */
export type RelayWake = { kind: PushWakeKind; deviceIds: string[] };

/** What a device waiting for approval may ask: about its approval, and to make the account key. */
const OPEN_TO_WAITING: ReadonlySet<AuthedFrame["type"]> = new Set([
  "ping",
  "ack",
  "device.self",
  "account.init",
  "account.reset",
]);
/**
 * The latest a disappearing message may ask the server to keep it: the longest timer from now, and
 * five minutes for a sender's clock that runs ahead.
 */
const MAX_EXPIRY_MS = MAX_DISAPPEARING_TIMER_S * 1000 + 5 * 60_000;
/** Rejoin requests per device per minute (a device that fell behind asks about once a minute). */
const REJOINS_PER_MINUTE = 10;
/**
 * Requests for bridged identities that do not exist yet, per account per minute: each may make the
 * gateway create an account, so a client cannot have it mint thousands.
 */
const BRIDGE_RESOLVES_PER_MINUTE = 20;

type AuthedFrame = Exclude<ClientFrame, { type: "auth" }>;

/**
 * The MLS Delivery Service and directory: every authenticated request, with no knowledge of sockets.
 * It orders commits per group (one per epoch), fans messages out to member devices' durable queues,
 * and never sees plaintext: MLS messages are opaque bytes to it.
 */
export class DeliveryService {
  readonly #store: Store;
  readonly #limits: Limits;
  readonly #log: Logger;
  readonly #notifier: DeliveryNotifier;
  readonly #claims: AccountAndAddressLimit;
  readonly #lookups: AccountAndAddressLimit;
  readonly #pairClaims: TokenBuckets;
  readonly #messages: TokenBuckets;
  readonly #now: () => number;
  readonly #turn: TurnConfig | undefined;
  readonly #gateways: ReadonlySet<string>;
  readonly #retentionMs: number;
  readonly #rejoins: RateLimiter;
  readonly #bridges: Readonly<Record<string, string>>;
  readonly #resolves: RateLimiter;
  readonly #push: PushRequests;

  constructor(options: {
    store: Store;
    limits: Limits;
    log: Logger;
    notifier: DeliveryNotifier;
    now?: () => number;
    turn?: TurnConfig | undefined;
    /** How long undelivered messages and unfetched attachments are kept (default 30). */
    retentionDays?: number;
    /** Usernames (lower case) the operator runs as gateways: the directory marks them. */
    gateways?: readonly string[];
    /** Namespaces of bridged identities → the gateway username (lower case) that owns each. */
    bridges?: Readonly<Record<string, string>>;
    /** The `push.*` requests (push/push-requests.ts); without them push is switched off. */
    push?: PushRequests;
  }) {
    this.#push =
      options.push ??
      new PushRequests({
        store: options.store,
        policy: { hosts: "off", loopbackHttp: false },
        vapid: undefined,
        waker: undefined,
        log: options.log,
      });
    this.#gateways = new Set(options.gateways ?? []);
    this.#bridges = options.bridges ?? {};
    const { store, limits, log, notifier, now = Date.now, turn, retentionDays = 30 } = options;
    this.#turn = turn;
    this.#retentionMs = retentionDays * 86_400_000;
    this.#store = store;
    this.#limits = limits;
    this.#log = log;
    this.#notifier = notifier;
    this.#claims = new AccountAndAddressLimit(limits.keyPackageClaimsPerMinute, now);
    // Against harvesting the directory: every name and id looked up counts.
    this.#lookups = new AccountAndAddressLimit(limits.directoryLookupsPerMinute, now);
    // A burst of the hourly budget, then evenly: at most budget × (1 + hours) one-time ones per pair.
    this.#pairClaims = new TokenBuckets(
      limits.keyPackageClaimsPerPairPerHour,
      limits.keyPackageClaimsPerPairPerHour / 3600,
      now,
    );
    this.#messages = new TokenBuckets(
      Math.max(1, Math.floor(limits.messagesPerMinute / 4)),
      limits.messagesPerMinute / 60,
      now,
    );
    this.#now = now;
    this.#rejoins = new RateLimiter(REJOINS_PER_MINUTE, 60_000, now);
    this.#resolves = new RateLimiter(BRIDGE_RESOLVES_PER_MINUTE, 60_000, now);
  }

  /** The result of `auth` once the token checked out. */
  async authResult(caller: Caller): Promise<WireResultOf<"auth">> {
    const { remaining } = await this.#store.keyPackageStatus(caller.deviceId);
    const { userId, deviceId, username } = caller;
    return { userId, deviceId, username, keyPackagesRemaining: remaining, featureLevel: FEATURE_LEVEL };
  }

  /**
   * Handles one request. Throws ProtocolError for what the request itself got wrong; storage failures
   * pass up as StoreError for the edge to translate (request-errors.ts).
   */
  handle(caller: Caller, frame: AuthedFrame): Promise<unknown> {
    return this.#dispatch(caller, frame);
  }

  /** Whether the caller's device was approved by its account (re-read until it is). */
  async #approved(caller: Caller): Promise<boolean> {
    if (caller.approved) return true;
    const [device] = await this.#store.devicesById([caller.deviceId]);
    caller.approved = device !== undefined && device.approvedAt !== null && device.revokedAt === null;
    return caller.approved;
  }

  async #dispatch(caller: Caller, frame: AuthedFrame): Promise<unknown> {
    // Checked synchronously first: every request of an approved device passes without an await.
    if (!caller.approved && !OPEN_TO_WAITING.has(frame.type) && !(await this.#approved(caller)))
      throw new ProtocolError(
        "approval-required",
        "this device waits for another device of the account to approve it (or for an identity reset)",
      );
    switch (frame.type) {
      case "ping":
        return { now: this.#now() } satisfies WireResultOf<"ping">;
      case "kp.upload":
        return this.#uploadKeyPackages(caller, frame.keyPackages, frame.lastResort);
      case "kp.status":
        return (await this.#store.keyPackageStatus(caller.deviceId)) satisfies WireResultOf<"kp.status">;
      case "kp.claim":
        return this.#claim(caller, frame.deviceIds);
      case "dir.users":
        return this.#lookUpUsers(caller, frame.usernames ?? [], frame.userIds ?? []);
      case "bridge.resolve":
        return this.#resolveBridged(caller, frame.username);
      case "dir.devices": {
        const devices = await this.#store.devicesById(frame.deviceIds);
        return { devices: devices.map(directoryDevice) } satisfies WireResultOf<"dir.devices">;
      }
      case "group.create":
        return this.#createGroup(caller, frame);
      case "group.commit":
        return this.#commit(caller, frame);
      case "group.info": {
        const group = await this.#store.getGroup(frame.groupId);
        if (!group?.members.some((m) => m.deviceId === caller.deviceId))
          throw refusalError({ status: "not-member" });
        const members = group.members
          .filter((m) => !m.revoked)
          .map(({ deviceId, userId }) => ({ deviceId, userId }));
        return { groupId: group.groupId, epoch: group.epoch, members } satisfies WireResultOf<"group.info">;
      }
      case "group.list":
        return {
          groups: await this.#store.groupsOfDevice(caller.deviceId),
        } satisfies WireResultOf<"group.list">;
      case "send":
        return this.#send(caller, frame);
      case "turn.credentials":
        return turnCredentials(this.#turn, caller.userId, this.#now());
      case "account.init":
      case "account.reset":
        return this.#setAccountKey(caller, frame);
      case "device.self":
        return this.#deviceSelf(caller);
      case "device.pending":
        return this.#pendingDevices(caller);
      case "device.approve":
        return this.#approveDevice(caller, frame);
      case "device.reject":
        return this.#rejectDevice(caller, frame.deviceId);
      case "group.rejoin":
        return this.#rejoin(caller, frame);
      case "push.subscribe":
        return this.#push.subscribe(caller, frame);
      case "push.unsubscribe":
        return this.#push.unsubscribe(caller);
      case "push.status":
        return this.#push.status(caller);
      case "ack":
        // The connection layer clamps and handles acks; reaching here means nothing was pushed.
        return { removed: 0 } satisfies WireResultOf<"ack">;
      default: {
        // A request the protocol gained but this switch lacks fails to compile here.
        const unhandled: never = frame;
        throw new ProtocolError("bad-frame", `unknown request ${(unhandled as { type: string }).type}`);
      }
    }
  }

  async #lookUpUsers(caller: Caller, names: string[], ids: string[]): Promise<WireResultOf<"dir.users">> {
    const asked = new Set(names.map((n) => n.toLowerCase())).size + new Set(ids).size;
    refuseIfLimited(this.#lookups.take(caller, asked), "directory look-ups");
    const found = [...(await this.#store.usersByUsername(names)), ...(await this.#store.usersById(ids))];
    const unknown = [
      ...names.filter((n) => !found.some((f) => f.user.username.toLowerCase() === n.toLowerCase())),
      ...ids.filter((id) => !found.some((f) => f.user.userId === id)),
    ];
    // Only devices the account signed in and that are ready: a waiting device is nobody's to add.
    const users = found.map((f) =>
      directoryUser(
        f.user,
        f.devices.filter((d) => d.revokedAt === null && d.activatedAt !== null && d.approvedAt !== null),
        this.#gateways.has(f.user.username.toLowerCase()),
      ),
    );
    return { users, unknown };
  }

  /**
   * A bridged identity someone wants to reach: if the directory lacks it, its namespace's gateway is
   * asked (a `bridge-wanted` notice in its queue, so a gateway that is down sees it when it is back).
   */
  async #resolveBridged(caller: Caller, username: string): Promise<WireResultOf<"bridge.resolve">> {
    const namespace = splitBridgedUsername(username)?.namespace ?? "";
    const owner = this.#bridges[namespace];
    if (owner === undefined)
      throw new ProtocolError("not-found", `no gateway on this server reaches "${namespace}:" addresses`);
    refuseIfLimited(this.#lookups.take(caller, 1), "directory look-ups");
    if ((await this.#store.usersByUsername([username])).length > 0) return { status: "exists" };
    refuseIfLimited(this.#resolves.take(caller.userId), "requests for bridged identities");
    const [gateway] = await this.#store.usersByUsername([owner]);
    if (!gateway)
      throw new ProtocolError("not-found", `the ${namespace} gateway has not signed in to this server yet`);
    const now = this.#now();
    const enqueued = await this.#store.notifyAccount(gateway.user.userId, {
      kind: "bridge-wanted",
      groupId: null,
      messageId: derivedId(`bridge-wanted\0${username.toLowerCase()}\0${caller.deviceId}\0${now}`),
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      epoch: null,
      data: new TextEncoder().encode(username),
      sentAt: now,
    });
    this.#notifier.enqueued(enqueued);
    this.#log.info("bridge.identity_wanted", { namespace, by: caller.userId });
    return { status: "requested" };
  }

  async #setAccountKey(
    caller: Caller,
    frame: Extract<AuthedFrame, { type: "account.init" | "account.reset" }>,
  ): Promise<WireResultOf<"account.init">> {
    const [device] = await this.#store.devicesById([caller.deviceId]);
    requireDeviceCertificate(
      frame.accountKey,
      device && { userId: caller.userId, deviceId: caller.deviceId, signatureKey: device.signatureKey },
      frame.certificate,
      "this",
    );
    const change = {
      userId: caller.userId,
      deviceId: caller.deviceId,
      accountKey: frame.accountKey,
      certificate: frame.certificate,
      now: this.#now(),
    };
    const outcome =
      frame.type === "account.init"
        ? await this.#store.initAccountKey(change)
        : await this.#store.resetAccountKey(change);
    if (outcome.status === "conflict")
      throw new ProtocolError(
        "forbidden",
        "this account already has an identity key: sign in and wait for approval",
      );
    if (outcome.status === "not-pending")
      throw new ProtocolError(
        "forbidden",
        "only a device waiting for approval can give the account a new identity key",
      );
    caller.approved = true;
    if (outcome.revoked.length > 0) {
      this.#notifier.signedOut(outcome.revoked, "the account got a new identity key on another device");
      this.#log.info("account.identity_reset", {
        user: caller.userId,
        device: caller.deviceId,
        signedOut: outcome.revoked.length,
      });
    } else {
      this.#log.info(frame.type === "account.init" ? "account.identity_set" : "account.identity_reset", {
        user: caller.userId,
        device: caller.deviceId,
      });
    }
    return {};
  }

  async #deviceSelf(caller: Caller): Promise<WireResultOf<"device.self">> {
    const [device] = await this.#store.devicesById([caller.deviceId]);
    const [user] = await this.#store.usersById([caller.userId]);
    const approved = device?.approvedAt !== null && device?.approvedAt !== undefined;
    return {
      state: approved ? "active" : "pending",
      accountKey: user?.user.accountKey ? toBase64(user.user.accountKey) : null,
      certificate: approved && device.certificate ? toBase64(device.certificate) : null,
      sealedKey: approved && device.sealedKey ? toBase64(device.sealedKey) : null,
    };
  }

  async #pendingDevices(caller: Caller): Promise<WireResultOf<"device.pending">> {
    const devices = (await this.#store.listDevices(caller.userId)).filter(
      (d) => d.revokedAt === null && d.approvedAt === null && d.transferKey !== null,
    );
    return {
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        name: d.name,
        createdAt: d.createdAt,
        signatureKey: toBase64(d.signatureKey),
        transferKey: toBase64(d.transferKey!),
        proof: d.linkProof ? toBase64(d.linkProof) : null,
        linkedBy: d.linkedBy,
      })),
    };
  }

  async #approveDevice(
    caller: Caller,
    frame: Extract<AuthedFrame, { type: "device.approve" }>,
  ): Promise<WireResultOf<"device.approve">> {
    const [target] = await this.#store.devicesById([frame.deviceId]);
    const [user] = await this.#store.usersById([caller.userId]);
    if (!target || target.userId !== caller.userId || target.revokedAt !== null || !user?.user.accountKey)
      throw new ProtocolError("not-found", "no device of this account waits for approval with that id");
    requireDeviceCertificate(
      user.user.accountKey,
      { userId: caller.userId, deviceId: target.deviceId, signatureKey: target.signatureKey },
      frame.certificate,
      "that",
    );
    const now = this.#now();
    const { approved, enqueued } = await this.#store.approveDevice(
      caller.userId,
      frame.deviceId,
      frame.certificate,
      frame.sealedKey,
      now,
      accountNotice("device-approved", caller, frame.deviceId, now),
    );
    if (!approved)
      throw new ProtocolError("not-found", "no device of this account waits for approval with that id");
    this.#notifier.enqueued(enqueued);
    this.#log.info("device.approved", { user: caller.userId, device: frame.deviceId, by: caller.deviceId });
    return {};
  }

  async #rejectDevice(caller: Caller, deviceId: string): Promise<WireResultOf<"device.reject">> {
    const [target] = await this.#store.devicesById([deviceId]);
    if (!target || target.userId !== caller.userId || target.revokedAt !== null || target.approvedAt !== null)
      throw new ProtocolError("not-found", "no device of this account waits for approval with that id");
    await this.#store.revokeDevice(deviceId, this.#now());
    this.#notifier.signedOut([deviceId], "this sign-in was rejected on another device of the account");
    this.#log.info("device.rejected", { user: caller.userId, device: deviceId, by: caller.deviceId });
    return {};
  }

  async #rejoin(
    caller: Caller,
    frame: Extract<AuthedFrame, { type: "group.rejoin" }>,
  ): Promise<WireResultOf<"group.rejoin">> {
    refuseIfLimited(this.#rejoins.take(caller.deviceId), "rejoin requests");
    const now = this.#now();
    const outcome = await this.#store.notifyGroup(frame.groupId, {
      kind: "rejoin-request",
      groupId: frame.groupId,
      messageId: derivedId(`rejoin\0${frame.groupId}\0${caller.deviceId}\0${now}`),
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      epoch: null,
      data: frame.request,
      sentAt: now,
    });
    if (outcome.status === "not-member") throw refusalError(outcome);
    this.#notifier.enqueued(outcome.enqueued);
    this.#log.info("group.rejoin_requested", { group: frame.groupId, device: caller.deviceId });
    return {};
  }

  async #uploadKeyPackages(
    caller: Caller,
    keyPackages: Uint8Array[],
    lastResort: Uint8Array | undefined,
  ): Promise<WireResultOf<"kp.upload">> {
    const now = this.#now();
    const notice: OutgoingMessage = {
      kind: "device-added",
      groupId: null,
      messageId: derivedId(`device-added\0${caller.deviceId}`),
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      epoch: null,
      data: null,
      sentAt: now,
      recipients: [],
    };
    const { remaining: left, enqueued } = await this.#store.addKeyPackages(
      caller.deviceId,
      keyPackages,
      lastResort,
      notice,
      this.#limits.maxKeyPackagesPerDevice,
    );
    if (enqueued.length > 0) {
      this.#notifier.enqueued(enqueued);
      this.#log.info("device.activated", { user: caller.userId, device: caller.deviceId });
    }
    return { remaining: left };
  }

  async #claim(caller: Caller, deviceIds: string[]): Promise<WireResultOf<"kp.claim">> {
    // Each claimed device counts: one request naming many devices must not drain them all at once.
    refuseIfLimited(this.#claims.take(caller, new Set(deviceIds).size), "KeyPackage claims");
    const reusable = await this.#pastPairBudget(caller, [...new Set(deviceIds)]);
    const { claimed, missing } = await this.#store.claimKeyPackages(deviceIds, reusable);
    for (const c of claimed) {
      if (c.remaining < KEY_PACKAGE_LOW_WATER) this.#notifier.keyPackagesLow(c.deviceId, c.remaining);
    }
    return {
      keyPackages: claimed.map((c) => ({
        deviceId: c.deviceId,
        userId: c.userId,
        keyPackage: toBase64(c.keyPackage),
      })),
      missing,
    };
  }

  /**
   * The devices of other accounts whose one-time KeyPackages this account has had its share of
   * (`keyPackageClaimsPerPairPerHour`): they are answered with their last-resort KeyPackage, so adding
   * them still works but a stranger claiming in a loop cannot drain them. An account's own devices
   * are not counted: draining them harms only itself, and a new device is added to all its chats at once.
   */
  async #pastPairBudget(caller: Caller, deviceIds: string[]): Promise<string[]> {
    const past: string[] = [];
    for (const d of await this.#store.devicesById(deviceIds)) {
      if (d.userId === caller.userId || d.revokedAt !== null) continue;
      if (this.#pairClaims.take(`${caller.userId}\0${d.deviceId}`) > 0) past.push(d.deviceId);
    }
    if (past.length > 0)
      this.#log.debug("kp.claim_last_resort", { user: caller.userId, devices: past.length });
    return past;
  }

  async #createGroup(
    caller: Caller,
    frame: Extract<AuthedFrame, { type: "group.create" }>,
  ): Promise<WireResultOf<"group.create">> {
    if (frame.members.length === 0 && frame.welcome) {
      throw new ProtocolError("bad-request", "a Welcome needs members to deliver it to");
    }
    if (frame.members.length > 0 && !frame.welcome) {
      throw new ProtocolError("bad-request", "a group created with members needs the Welcome for them");
    }
    const welcome =
      frame.welcome &&
      this.#outgoing(
        caller,
        "welcome",
        frame.groupId,
        frame.epoch,
        frame.welcome,
        frame.members,
        derivedId(`welcome\0${frame.groupId}`),
      );
    const outcome = await this.#store.createGroup(frame.groupId, frame.epoch, caller, frame.members, welcome);
    if (outcome.status === "exists") throw refusalError(outcome);
    if (outcome.status === "created") {
      this.#notifier.enqueued(outcome.enqueued);
      this.#log.info("group.created", { group: frame.groupId, members: frame.members.length + 1 });
    }
    return { groupId: frame.groupId, epoch: outcome.epoch };
  }

  async #commit(
    caller: Caller,
    frame: Extract<AuthedFrame, { type: "group.commit" }>,
  ): Promise<WireResultOf<"group.commit">> {
    if (frame.add.length > 0 && !frame.welcome) {
      throw new ProtocolError("bad-request", "a commit that adds devices needs the Welcome for them");
    }
    const messageId = commitMessageId(frame.groupId, frame.epoch, caller.deviceId);
    const commit = this.#outgoing(caller, "commit", frame.groupId, frame.epoch, frame.commit, [], messageId);
    const welcome =
      frame.welcome &&
      this.#outgoing(
        caller,
        "welcome",
        frame.groupId,
        frame.epoch + 1,
        frame.welcome,
        frame.add,
        derivedId(`welcome\0${messageId}`),
      );
    const outcome = await this.#store.applyCommit(
      frame.groupId,
      frame.epoch,
      frame.add,
      frame.remove,
      commit,
      welcome,
    );
    switch (outcome.status) {
      case "accepted":
        this.#notifier.enqueued(outcome.enqueued);
        return { groupId: frame.groupId, epoch: outcome.epoch };
      case "duplicate":
        return { groupId: frame.groupId, epoch: outcome.epoch };
      default:
        throw refusalError(outcome);
    }
  }

  async #send(caller: Caller, frame: Extract<AuthedFrame, { type: "send" }>): Promise<WireResultOf<"send">> {
    refuseIfLimited(this.#messages.take(caller.deviceId), "messages from this device");
    if (frame.data.length > this.#limits.maxMessageBytes) {
      throw new ProtocolError(
        "too-large",
        `message is ${frame.data.length} bytes; the limit is ${this.#limits.maxMessageBytes}`,
        {
          limit: this.#limits.maxMessageBytes,
        },
      );
    }
    if (frame.transient) return this.#relay(caller, frame);
    if (frame.wake) throw new ProtocolError("bad-request", "only a transient send (a ring) can wake devices");
    const now = this.#now();
    // Clamped rather than refused: the expiry only tells the server when to drop its copies, and a
    // device whose clock runs fast must still be able to send.
    const expiresAt =
      frame.expiresAt === undefined ? undefined : Math.min(frame.expiresAt, now + MAX_EXPIRY_MS);
    const outcome = await this.#store.acceptMessage({
      kind: "message",
      groupId: frame.groupId,
      messageId: frame.messageId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      epoch: frame.epoch,
      data: frame.data,
      sentAt: now,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(frame.blobs && frame.blobs.length > 0
        ? { blobs: frame.blobs, blobsExpireAt: Math.min(expiresAt ?? Infinity, now + this.#retentionMs) }
        : {}),
    });
    switch (outcome.status) {
      case "accepted":
        this.#notifier.enqueued(outcome.enqueued);
        return { messageId: frame.messageId, sentAt: outcome.sentAt, duplicate: false };
      case "duplicate":
        return { messageId: frame.messageId, sentAt: outcome.sentAt, duplicate: true };
      default:
        throw refusalError(outcome);
    }
  }

  /**
   * A transient message (call signalling): checked like any message (the sender is a member, the epoch
   * is current) but never stored. It goes to every other member device connected now; devices that
   * are not simply miss it, which is right for signalling that is stale within seconds.
   */
  async #relay(caller: Caller, frame: Extract<AuthedFrame, { type: "send" }>): Promise<WireResultOf<"send">> {
    const group = await this.#store.getGroup(frame.groupId);
    const refused = checkSender(group, caller.deviceId, frame.epoch);
    if (refused) throw refusalError(refused);
    const now = this.#now();
    // A ring wakes the other people's devices, never the caller's own (they ignore its ring).
    const wake = frame.wake && {
      kind: frame.wake,
      deviceIds: group!.members
        .filter((m) => m.userId !== caller.userId && !m.revoked)
        .map((m) => m.deviceId),
    };
    const relay: WireRelay = {
      type: "relay",
      groupId: frame.groupId,
      messageId: frame.messageId,
      from: { userId: caller.userId, deviceId: caller.deviceId },
      epoch: frame.epoch,
      data: toBase64(frame.data),
      sentAt: now,
    };
    this.#notifier.relay(otherMembers(group!, caller.deviceId), relay, wake);
    return { messageId: frame.messageId, sentAt: now, duplicate: false };
  }

  #outgoing(
    caller: Caller,
    kind: OutgoingMessage["kind"],
    groupId: string,
    epoch: number,
    data: Uint8Array,
    recipients: string[],
    messageId: string,
  ): OutgoingMessage {
    return {
      kind,
      groupId,
      messageId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      epoch,
      data,
      sentAt: this.#now(),
      recipients,
    };
  }
}

/**
 * A commit's id is derived from (group, epoch, committer): a device commits at most once per epoch, so a
 * resend after a lost answer is recognised as the same commit and answered as before.
 */
function commitMessageId(groupId: string, epoch: number, deviceId: string): string {
  return derivedId(`commit\0${groupId}\0${epoch}\0${deviceId}`);
}

/** A refusal by the Delivery Service's rules (delivery-rules.ts, applied by the store). */
type Refusal =
  | SenderRefusal
  | Extract<CommitOutcome, { status: "not-found" }>
  | Extract<CreateGroupOutcome, { status: "exists" }>
  | Extract<SendOutcome, { status: "blob-missing" | "blob-forbidden" | "group-outdated" }>;

/** What the client is told when the rules refuse a request. */
function refusalError(r: Refusal): ProtocolError {
  switch (r.status) {
    case "not-member":
      return new ProtocolError("not-member", "this device is not a member of that group");
    case "stale-epoch":
      return new ProtocolError(
        "stale-epoch",
        `the group is at epoch ${r.epoch}; process pending messages and retry`,
        {
          epoch: r.epoch,
        },
      );
    case "not-found":
      return new ProtocolError("not-found", "no such group");
    case "exists":
      return new ProtocolError("group-exists", "a group with that id already exists");
    case "blob-missing":
      return new ProtocolError("not-found", "an attachment is unknown, expired or not completely uploaded");
    case "blob-forbidden":
      return new ProtocolError(
        "forbidden",
        "an attachment was neither uploaded by this device nor sent to it: upload the file again",
      );
    case "group-outdated":
      return new ProtocolError(
        "group-outdated",
        "the group must first add the members' new devices and remove revoked ones",
        { missingDevices: r.missingDevices, revokedDevices: r.revokedDevices },
      );
  }
}

function derivedId(input: string): string {
  return createHash("sha256").update(input).digest().subarray(0, 16).toString("base64url");
}

function directoryDevice(d: DeviceRecord): WireResultOf<"dir.devices">["devices"][number] {
  return {
    deviceId: d.deviceId,
    userId: d.userId,
    signatureKey: toBase64(d.signatureKey),
    revoked: d.revokedAt !== null,
    certificate: d.certificate ? toBase64(d.certificate) : null,
  };
}

function directoryUser(
  user: UserRecord,
  devices: DeviceRecord[],
  gateway: boolean,
): WireResultOf<"dir.users">["users"][number] {
  return {
    userId: user.userId,
    username: user.username,
    accountKey: user.accountKey ? toBase64(user.accountKey) : null,
    devices: devices.map(directoryDevice),
    ...(gateway ? { gateway: true } : {}),
    ...bridgedMark(user.username),
  };
}

/** A bridged identity is known by its username alone: no plain username holds a colon. */
function bridgedMark(username: string): { bridged?: string } {
  const parts = splitBridgedUsername(username);
  return parts ? { bridged: parts.namespace } : {};
}

/** An account-level notice (no group): a device waits for approval, or was approved. */
export function accountNotice(
  kind: "device-pending" | "device-approved",
  from: { userId: string; deviceId: string },
  subject: string,
  now: number,
): Omit<OutgoingMessage, "recipients"> {
  return {
    kind,
    groupId: null,
    messageId: derivedId(`${kind}\0${subject}`),
    senderUserId: from.userId,
    // The device the notice is about: the one waiting (pending), or the approved one itself.
    senderDeviceId: subject,
    epoch: null,
    data: null,
    sentAt: now,
  };
}
