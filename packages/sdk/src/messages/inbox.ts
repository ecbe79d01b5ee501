import {
  CryptoError,
  groupEpoch,
  groupIdOf,
  joinFromWelcome,
  type GroupMember,
  type MemberIdentity,
  processMessage,
} from "@sori/crypto";
import { type Delivery, type Relay, toBase64Url } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import type { KeyPackages } from "../device/key-packages.ts";
import { SdkError } from "../errors.ts";
import { codeOf, isTransient } from "../failures.ts";
import type { PendingCommits } from "../groups/pending-commits.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { type Content, decodeContent, decodeEnvelope } from "./content.ts";

/** A delivery that could not be processed for a transient reason is tried again after this long. */
const DRAIN_RETRY_MS = 1000;
/** Processed deliveries are acknowledged at least every this many. */
const ACK_EVERY = 64;

export type InboxDeps = {
  pending: PendingCommits;
  directory: Directory;
  keyPackages: KeyPackages;
  ack(upTo: number): Promise<void>;
  /** Why the server refused this device's token, once it did (waiting for sync then fails). */
  authFailed(): string | undefined;
  /** A durable message numbered `seq` by its sender arrived (gaps and reordering are reported). */
  sequenced(chat: string, sender: MemberIdentity, seq: number, messageId: string): Promise<void>;
  /** A decrypted message's content, from an authenticated sender. */
  onContent(
    chat: string,
    senderId: string,
    sentAt: number,
    content: Content,
    senderDevice: string,
  ): Promise<void>;
  /** A call signal that came as a relay (transient). */
  onCallSignal(
    chat: string,
    sender: MemberIdentity,
    content: Extract<Content, { type: "call" }>,
    sentAt: number,
  ): void;
  /** This device was removed from a group. */
  deactivate(groupId: string): Promise<void>;
  /** A new device of this user became active: add it to every chat. */
  addOwnDevice(deviceId: string, at: number): Promise<void>;
  /** A device of this account signed in and waits for approval. */
  devicePending(): void;
  /** This waiting device was approved. */
  deviceApproved(): void;
  /** A group's members changed through a commit (safety numbers, chat list). */
  membersChanged(
    groupId: string,
    before: GroupMember[],
    after: GroupMember[],
    change: { added: MemberIdentity[]; removed: MemberIdentity[] },
  ): Promise<void>;
  /** This device joined a group (it then shares its profile there). */
  joined(groupId: string): Promise<void>;
  /** This device met data from an epoch it never reached: it missed a commit (call inside the mutex). */
  fellBehind(groupId: string, epoch: number): Promise<void>;
  /** Whether this device asked to be re-added to the group (a Welcome for it is then taken). */
  isBehind(groupId: string): Promise<boolean>;
  /** A Welcome brought this device back into a group it had fallen out of. */
  rejoined(groupId: string): Promise<void>;
  /** Another member device asks to be re-added. */
  rejoinRequested(groupId: string, from: MemberIdentity, request: Uint8Array): void;
  /** A gateway's device: someone wants a bridged identity of its namespace that does not exist yet. */
  bridgeWanted(username: string, from: MemberIdentity): void;
  /** Called after a batch of deliveries was processed (e.g. to send the receipts it produced). */
  drained(): void;
};

const identityKey = (m: MemberIdentity): string => `${m.userId}/${m.deviceId}`;

/**
 * The device's queue as the server pushes it: deliveries are processed one at a time, in queue order,
 * under the device mutex, and acknowledged once processed. Permanent problems (undecryptable or
 * malformed data) are reported and acknowledged; transient ones leave the delivery unacknowledged and
 * it is tried again, so a full disk delays a message but never loses it. Relays (call signals) are
 * decrypted here too but never queued.
 */
export class Inbox {
  readonly #ctx: DeviceContext;
  readonly #deps: InboxDeps;
  #queue: Delivery[] = [];
  #draining: Promise<void> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #syncedUpTo = -1;
  #processedUpTo = 0;
  /** The highest queue position pushed on this connection (positions only grow within one). */
  #connectionMax = -1;
  /** Deliveries that came after a higher position on the same connection: processed, not skipped. */
  readonly #outOfOrder = new WeakSet<Delivery>();
  #syncWaiters: (() => void)[] = [];

  constructor(ctx: DeviceContext, deps: InboxDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /**
   * A delivery arrived. One whose position is not above the last on this connection was reordered by
   * the server (a redelivery comes only after a reconnect): it is reported, and processed all the same
   * (processing is idempotent), never passed over as if it had been seen.
   */
  push(delivery: Delivery): void {
    if (delivery.seq <= this.#connectionMax) {
      this.#outOfOrder.add(delivery);
      this.#ctx.warn(
        "queue-reordered",
        "the server delivered this device's queue out of order (a message may have been held back)",
      );
    } else this.#connectionMax = delivery.seq;
    this.#queue.push(delivery);
    this.#drain();
  }

  /** Everything queued at connect time up to `upTo` has been pushed. */
  synced(upTo: number): void {
    this.#syncedUpTo = upTo;
    this.wake();
  }

  /** The connection was lost: the next connection pushes the queue again. */
  disconnected(): void {
    this.#syncedUpTo = -1;
    this.#connectionMax = -1;
  }

  /** Wakes whoever waits for sync (to re-check, e.g. after the token was refused). */
  wake(): void {
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  /** Resolves when the queue pushed at (re)connect time has been processed. */
  waitSynced(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        const refused = this.#deps.authFailed();
        if (refused) {
          reject(new SdkError("auth-failed", refused));
          return true;
        }
        if (
          this.#syncedUpTo >= 0 &&
          this.#processedUpTo >= this.#syncedUpTo &&
          this.#queue.length === 0 &&
          !this.#draining
        ) {
          resolve();
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        reject(new SdkError("timeout", "timed out catching up with the server"));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) clearTimeout(timer);
        else this.#syncWaiters.push(waiter);
      };
      this.#syncWaiters.push(waiter);
    });
  }

  /** Stops retrying and waits for the batch in progress (before closing). */
  async stop(): Promise<void> {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#draining;
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = (async () => {
      let lastSeq = 0;
      while (this.#queue.length > 0) {
        const d = this.#queue[0]!;
        // Redelivered after a reconnect but already processed here (unless it came out of order).
        if (d.seq > this.#processedUpTo || this.#outOfOrder.has(d)) {
          try {
            await this.#ctx.mutex.run(() => this.#process(d));
          } catch (error) {
            // Transient (storage, network): keep it, acknowledge nothing more, and try again shortly.
            this.#ctx.warn(
              `${d.kind}-delayed`,
              `could not process a ${d.kind} yet (${codeOf(error)}); retrying`,
            );
            this.#retryLater();
            break;
          }
          this.#processedUpTo = Math.max(this.#processedUpTo, d.seq);
        }
        this.#queue.shift();
        lastSeq = Math.max(lastSeq, d.seq);
        if (this.#queue.length === 0 || this.#queue.length % ACK_EVERY === 0) await this.#deps.ack(lastSeq);
      }
      if (lastSeq > 0 && this.#queue.length > 0) await this.#deps.ack(lastSeq);
    })().finally(() => {
      this.#draining = undefined;
      this.wake();
      this.#deps.drained();
      if (this.#queue.length > 0 && !this.#retry) this.#drain();
    });
  }

  #retryLater(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#drain();
    }, DRAIN_RETRY_MS);
  }

  /**
   * Processes one delivery. Permanent problems (bad or undecryptable MLS data) are reported and the
   * delivery is dropped; transient ones (storage, network, an unsettled commit) are thrown so the
   * delivery stays unacknowledged and is retried.
   */
  async #process(d: Delivery): Promise<void> {
    try {
      // A commit whose answer was lost must be settled first: later deliveries may build on it.
      if (d.groupId && this.#deps.pending.has(d.groupId) && !(await this.#deps.pending.settle(d.groupId))) {
        throw new SdkError("offline", "an earlier change to this chat is not settled yet");
      }
      switch (d.kind) {
        case "welcome":
          await this.#onWelcome(d);
          break;
        case "commit":
          await this.#onCommit(d);
          break;
        case "message":
          await this.#onMessage(d);
          break;
        case "device-added":
          if (
            d.from.userId === this.#ctx.identity.userId &&
            d.from.deviceId !== this.#ctx.identity.deviceId
          ) {
            const { deviceId } = d.from;
            this.#ctx.later(() => this.#deps.addOwnDevice(deviceId, d.sentAt));
          }
          break;
        case "device-pending":
          if (d.from.userId === this.#ctx.identity.userId) this.#deps.devicePending();
          break;
        case "device-approved":
          if (d.from.userId === this.#ctx.identity.userId) this.#deps.deviceApproved();
          break;
        case "rejoin-request":
          if (d.groupId && d.data) this.#deps.rejoinRequested(d.groupId, d.from, d.data);
          break;
        case "bridge-wanted":
          if (d.data) this.#deps.bridgeWanted(new TextDecoder().decode(d.data), d.from);
          break;
      }
    } catch (error) {
      if (isTransient(error)) throw error;
      this.#ctx.warn(`${d.kind}-failed`, `could not process a ${d.kind} (${codeOf(error)})`);
    }
  }

  async #onWelcome(d: Delivery): Promise<void> {
    const ctx = this.#ctx;
    if (!d.groupId || !d.data) return;
    // Already in the group, unless this device fell out of it and asked to be re-added.
    const rejoining = (await ctx.groups.has(d.groupId)) && (await this.#deps.isBehind(d.groupId));
    if ((await ctx.groups.has(d.groupId)) && !rejoining) return;
    const before = rejoining ? await ctx.groups.epoch(d.groupId) : undefined;
    const bundles = await this.#deps.keyPackages.bundles();
    const { group, usedKeyPackageRef, sender } = await joinFromWelcome(
      d.data,
      bundles,
      ctx.keys,
      this.#deps.directory.validateIncoming,
    );
    if (toBase64Url(groupIdOf(group)) !== d.groupId) {
      throw new CryptoError(
        "wrong-group",
        "a Welcome's group id does not match the chat it was delivered for",
      );
    }
    // The member who signed the Welcome must be the one the server says sent it.
    if (identityKey(sender) !== identityKey(d.from)) {
      ctx.warn("sender-mismatch", "dropped a Welcome whose sender did not match its signature");
      return;
    }
    // A replayed old Welcome cannot take a rejoining device back in time.
    if (before !== undefined && Number(groupEpoch(group)) <= before) return;
    const used = bundles.find((b) => b.ref === usedKeyPackageRef);
    if (used) await this.#deps.keyPackages.used(used);
    await ctx.groups.save(d.groupId, group);
    const existing = await ctx.chats.getChat(d.groupId);
    await ctx.chats.putChat({
      id: d.groupId,
      kind: existing?.kind ?? "group",
      name: existing?.name ?? null,
      createdAt: existing?.createdAt ?? d.sentAt,
      lastMessageAt: d.sentAt,
      lastMessage: existing?.lastMessage ?? null,
      unread: existing?.unread ?? 0,
      active: true,
      memberIds: await ctx.groups.memberUserIds(d.groupId),
    });
    ctx.groups.notifyEpoch();
    const groupId = d.groupId;
    if (rejoining) await this.#deps.rejoined(groupId);
    ctx.later(() => this.#deps.joined(groupId));
  }

  async #onCommit(d: Delivery): Promise<void> {
    const ctx = this.#ctx;
    if (!d.groupId || !d.data) return;
    const group = await ctx.groups.find(d.groupId);
    if (!group) return;
    // Already applied (a redelivery after reconnect): the commit was made from an older epoch.
    if (d.epoch !== undefined && d.epoch < Number(groupEpoch(group))) return;
    // Made from an epoch this device never reached: the commit before it never came (or failed here).
    if (d.epoch !== undefined && d.epoch > Number(groupEpoch(group))) {
      await this.#deps.fellBehind(d.groupId, d.epoch);
      return;
    }
    const before = await ctx.groups.members(d.groupId);
    const r = await processMessage(group, d.data, this.#deps.directory.validateIncoming);
    if (r.kind !== "commit") return;
    if (!r.sender || identityKey(r.sender) !== identityKey(d.from)) {
      ctx.warn("sender-mismatch", "dropped a commit whose sender did not match its signature");
      return;
    }
    if (r.selfRemoved) {
      await this.#deps.deactivate(d.groupId);
    } else {
      await ctx.groups.save(d.groupId, r.group);
      const after = await ctx.groups.members(d.groupId);
      await this.#deps.membersChanged(d.groupId, before, after, r);
    }
    ctx.groups.notifyEpoch();
  }

  async #onMessage(d: Delivery): Promise<void> {
    const ctx = this.#ctx;
    if (!d.groupId || !d.data) return;
    if (await ctx.storage.get(StorageKeys.seen(d.messageId))) return;
    const group = await ctx.groups.find(d.groupId);
    // Not (or no longer) a member: nothing here can decrypt it.
    if (!group) return;
    // From an epoch this device never reached: a commit before it never came (the queue is in order).
    if (d.epoch !== undefined && d.epoch > Number(groupEpoch(group))) {
      await this.#deps.fellBehind(d.groupId, d.epoch);
      return;
    }
    const r = await processMessage(group, d.data, this.#deps.directory.validateIncoming);
    if (r.kind !== "application") return;
    // The server's claim about the sender must match the MLS-authenticated one.
    const authentic = identityKey(r.sender) === identityKey(d.from);
    if (!authentic) ctx.warn("sender-mismatch", "dropped a message whose sender did not match its signature");
    const envelope = authentic ? decodeEnvelope(r.plaintext) : undefined;
    const content = envelope?.content;
    // Content first (its writes are idempotent), then the advanced group state, then "seen": a crash
    // in between leads to a redelivery that either decrypts again or is recognised, never to a loss.
    if (content && content.id === d.messageId) {
      await this.#deps.onContent(d.groupId, r.sender.userId, d.sentAt, content, r.sender.deviceId);
      if (envelope.seq !== undefined)
        await this.#deps.sequenced(d.groupId, r.sender, envelope.seq, d.messageId);
    }
    await ctx.groups.save(d.groupId, r.group);
    await ctx.storage.put(StorageKeys.seen(d.messageId), new Uint8Array(0));
  }

  /** A transient message: decrypted like any message, but only call signals are accepted this way. */
  async relay(r: Relay): Promise<void> {
    const ctx = this.#ctx;
    let signal: { sender: MemberIdentity; content: Content | undefined } | undefined;
    try {
      // A relay can overtake the commit that moved the group to its epoch, or the Welcome into a chat
      // someone just started in order to call (both come through the queue): wait, bounded, until
      // this device has caught up.
      const epoch = await ctx.groups.epoch(r.groupId);
      if (epoch === undefined || epoch < r.epoch)
        await ctx.groups.waitEpoch(r.groupId, r.epoch, { orJoin: true });
      signal = await ctx.mutex.run(async () => {
        const group = await ctx.groups.find(r.groupId);
        if (!group) return undefined;
        const out = await processMessage(group, r.data, this.#deps.directory.validateIncoming);
        if (out.kind !== "application") return undefined;
        await ctx.groups.save(r.groupId, out.group);
        if (identityKey(out.sender) !== identityKey(r.from)) {
          ctx.warn("sender-mismatch", "dropped a call signal whose sender did not match its signature");
          return undefined;
        }
        return { sender: out.sender, content: decodeContent(out.plaintext) };
      });
    } catch (error) {
      ctx.warn("call-signal-invalid", `could not decrypt a call signal (${codeOf(error)})`);
      return;
    }
    if (!signal) return;
    const { sender, content } = signal;
    if (!content || content.type !== "call" || content.id !== r.messageId) {
      ctx.warn("call-signal-invalid", "ignored a transient message that is not a valid call signal");
      return;
    }
    this.#deps.onCallSignal(r.groupId, sender, content, r.sentAt);
  }
}
