import type { GroupRecord, SendOutcome } from "./store.ts";

// The MLS Delivery Service's rules, as pure decisions over what a store read: every Store
// implementation applies exactly these inside its transaction, so SQLite and PostgreSQL cannot
// disagree on who may send or commit what.

/** What the rules need of a group: its epoch and member devices (with whether each is revoked). */
export type GroupState = { epoch: number; members: GroupRecord["members"] };

/** Why a device may not send or commit to a group now. */
export type SenderRefusal = { status: "not-member" } | { status: "stale-epoch"; epoch: number };

/** A sender must be an unrevoked member of the group and speak at its current epoch. */
export function checkSender(
  group: GroupState | undefined,
  senderDeviceId: string,
  epoch: number | null,
): SenderRefusal | undefined {
  if (!group?.members.some((m) => m.deviceId === senderDeviceId && !m.revoked))
    return { status: "not-member" };
  if (epoch !== group.epoch) return { status: "stale-epoch", epoch: group.epoch };
  return undefined;
}

/** Who receives what a member sends: every other member device that is not revoked. */
export function otherMembers(group: GroupState, senderDeviceId: string): string[] {
  return group.members.filter((m) => m.deviceId !== senderDeviceId && !m.revoked).map((m) => m.deviceId);
}

/** The users with a device in the group: whose active devices a send must check (SendFacts). */
export function memberUsers(group: GroupState | undefined): string[] {
  return [...new Set(group?.members.map((m) => m.userId))];
}

/** What a store reads before a `send` is decided. */
export type SendFacts = {
  /** The same device's earlier message with this id, if any: a resend. */
  seen: { acceptedAt: number } | undefined;
  group: GroupState | undefined;
  /** The active devices of each of memberUsers(group). */
  activeDevices: ReadonlyMap<string, readonly string[]>;
  /** Every attachment the message names exists and is completely uploaded (true if it names none). */
  blobsComplete: boolean;
  /**
   * Every attachment the message names was uploaded by the sending device or sent to it (a forward),
   * so a device cannot keep someone else's file alive by naming an id it learned (true if none).
   */
  blobsSendable: boolean;
};

/** The decision on a `send`: refused or answered as before (the store changes nothing), or accepted. */
export type SendDecision =
  Exclude<SendOutcome, { status: "accepted" }> | { status: "accept"; epoch: number; recipients: string[] };

/**
 * A resend is answered as before, whatever happened since (its epoch passed, its sender was removed).
 * Otherwise the sender must be a member at the current epoch, and every active device of every
 * member user must be in the group, revoked ones out, before anyone may send: so a device that
 * logged in receives everything sent after its login. Then the attachments must be complete, and
 * the sender's own or sent to it.
 */
export function decideSend(
  message: { senderDeviceId: string; epoch: number | null },
  facts: SendFacts,
): SendDecision {
  if (facts.seen) return { status: "duplicate", sentAt: facts.seen.acceptedAt };
  const refused = checkSender(facts.group, message.senderDeviceId, message.epoch);
  if (refused) return refused;
  const group = facts.group!;
  const revokedDevices = group.members.filter((m) => m.revoked).map((m) => m.deviceId);
  const memberIds = new Set(group.members.map((m) => m.deviceId));
  const missingDevices: string[] = [];
  for (const userId of memberUsers(group)) {
    for (const id of facts.activeDevices.get(userId) ?? []) {
      if (!memberIds.has(id)) missingDevices.push(id);
    }
  }
  if (missingDevices.length > 0 || revokedDevices.length > 0) {
    return { status: "group-outdated", missingDevices, revokedDevices };
  }
  if (!facts.blobsComplete) return { status: "blob-missing" };
  if (!facts.blobsSendable) return { status: "blob-forbidden" };
  return { status: "accept", epoch: group.epoch, recipients: otherMembers(group, message.senderDeviceId) };
}

/** What a store reads before a commit is decided. */
export type CommitFacts = {
  /** Undefined if there is no such group. */
  group: GroupState | undefined;
  /** The committer's earlier commit with this id (from this epoch), if any: a resend. */
  seen: { epoch: number | null } | undefined;
};

/** The decision on a commit from `fromEpoch`. */
export type CommitDecision =
  | { status: "not-found" }
  | { status: "duplicate"; epoch: number }
  | SenderRefusal
  | { status: "accept"; epoch: number; recipients: string[] };

/**
 * One commit per epoch: the first from the current epoch moves the group to the next; any other is
 * stale. A resend of an accepted commit is answered with the epoch it produced. Every current member
 * except the committer receives it, the removed ones included, so they learn they are out — but not
 * a device it re-adds (removed and added at once, after it fell behind): that one gets the Welcome.
 */
export function decideCommit(
  commit: { senderDeviceId: string; fromEpoch: number; readded?: readonly string[] },
  facts: CommitFacts,
): CommitDecision {
  if (!facts.group) return { status: "not-found" };
  if (facts.seen) return { status: "duplicate", epoch: Number(facts.seen.epoch) };
  const refused = checkSender(facts.group, commit.senderDeviceId, commit.fromEpoch);
  if (refused) return refused;
  const readded = new Set(commit.readded ?? []);
  return {
    status: "accept",
    epoch: facts.group.epoch + 1,
    recipients: otherMembers(facts.group, commit.senderDeviceId).filter((d) => !readded.has(d)),
  };
}

/** The decision on creating a group. */
export type CreateGroupDecision =
  { status: "exists" } | { status: "duplicate"; epoch: number } | { status: "create"; members: string[] };

/**
 * A group id is taken once. Creating it again is a resend only if the same device's Welcome for it
 * was accepted; the creator is always a member.
 */
export function decideCreateGroup(
  request: { creatorDeviceId: string; members: string[] },
  facts: { existingEpoch: number | undefined; welcomeSeen: boolean },
): CreateGroupDecision {
  if (facts.existingEpoch !== undefined) {
    return facts.welcomeSeen ? { status: "duplicate", epoch: facts.existingEpoch } : { status: "exists" };
  }
  return { status: "create", members: [...new Set([request.creatorDeviceId, ...request.members])] };
}
