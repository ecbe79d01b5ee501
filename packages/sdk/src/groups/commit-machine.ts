/**
 * The rules by which a device changes a group the server orders, free of I/O: member changes
 * (commits) and messages both go through them. The server accepts one commit per epoch and answers
 * every other one with `stale-epoch`; a message for an old epoch gets `stale-epoch` too, one that
 * misses a member's new device gets `group-outdated`; and an answer can be lost with the connection.
 * Inputs (what the server said, what the device found) go in; the next phase comes out, and the
 * drivers (pending-commits.ts, message-sender.ts) carry it out.
 */

/** Rounds (submit, then catch up or reconnect or reconcile) before an operation gives up. */
export const MAX_ATTEMPTS = 6;

/** The server's answer to a commit or a message, reduced to what decides the next step. */
export type ServerAnswer =
  | { kind: "accepted" }
  /** Another commit won this epoch; the group is now at `epoch` (when the server said). */
  | { kind: "stale-epoch"; epoch: number | undefined }
  /** A member user's active devices are not all in the group (messages only). */
  | { kind: "group-outdated" }
  /** No answer (offline, timeout): the server may or may not have taken it. */
  | { kind: "lost" }
  /** Any other error: the server did not take it. */
  | { kind: "refused"; code: string };

/** Reduces an error code (and its details) from a request to a ServerAnswer. */
export function answerOf(code: string, details: { epoch?: number }): ServerAnswer {
  if (code === "stale-epoch") return { kind: "stale-epoch", epoch: details.epoch };
  if (code === "group-outdated") return { kind: "group-outdated" };
  if (code === "offline" || code === "timeout") return { kind: "lost" };
  return { kind: "refused", code };
}

/**
 * What to do with a stored pending commit (sent before, answer never seen) given the server's answer
 * to sending it (again): keep its new state, drop it, or keep it to resend once the link is back. A
 * commit whose answer was lost must be resent unchanged — a new one could fork the group if the
 * server had taken the first.
 */
export function pendingCommitAction(answer: ServerAnswer): "adopt" | "drop" | "keep" {
  switch (answer.kind) {
    case "accepted":
      return "adopt";
    case "lost":
      return "keep";
    case "stale-epoch":
    case "group-outdated":
    case "refused":
      return "drop";
  }
}

/**
 * Whether a stored pending commit is still worth resending: only while the group is at the epoch the
 * commit was made from (after that it was either applied, or another commit won).
 */
export function shouldResendPending(pendingEpoch: number, localEpoch: number | undefined): boolean {
  return localEpoch !== undefined && localEpoch === pendingEpoch;
}

type Member = { userId: string; deviceId: string };

/** One commit's worth of a member change: removals go first, adds in a round of their own. */
export type ChangeRound = { remove: string[]; add: string[] };

/**
 * The next commit of a member change, given the group's members: devices to remove that are members
 * (never this device: MLS forbids committing one's own removal), else devices to add that are not.
 * Undefined when there is nothing (left) to do.
 */
export function planRound(
  members: Member[],
  selfDeviceId: string,
  add: string[],
  remove: string[],
): ChangeRound | undefined {
  const present = new Set(members.map((m) => m.deviceId));
  const toRemove = [...new Set(remove.filter((d) => present.has(d) && d !== selfDeviceId))];
  if (toRemove.length > 0) return { remove: toRemove, add: [] };
  const toAdd = [...new Set(add.filter((d) => !present.has(d)))];
  if (toAdd.length > 0) return { remove: [], add: toAdd };
  return undefined;
}

/**
 * The member change that brings a group in line with the directory: the active devices of users who
 * are members per MLS (never users the server names) join, and members' devices that are no longer
 * active leave. This device stays either way.
 */
export function reconcilePlan(
  members: Member[],
  activeDevices: { userId: string; deviceId: string }[],
  selfDeviceId: string,
): ChangeRound {
  const memberUsers = new Set(members.map((m) => m.userId));
  const active = new Set(activeDevices.filter((d) => memberUsers.has(d.userId)).map((d) => d.deviceId));
  const present = new Set(members.map((m) => m.deviceId));
  return {
    add: [...active].filter((d) => !present.has(d)),
    remove: members.map((m) => m.deviceId).filter((d) => !active.has(d) && d !== selfDeviceId),
  };
}

/** A failure an operation ends with. */
type OperationError = { code: "offline" | "conflict" | "refused" | "lost"; message: string };

// --- member changes ---------------------------------------------------------------------------------

/**
 * One member change (add and/or remove devices) from request to outcome:
 * settle (resend an earlier pending commit first) → prepare (plan and build one commit) → submit →
 * accepted: prepare the next round, or done; stale-epoch: catch up, then settle again.
 */
export type ChangeState = {
  phase: "settle" | "prepare" | "submit" | "catch-up" | "done" | "failed";
  attempt: number;
  add: string[];
  remove: string[];
  /** The commit being submitted. */
  inFlight: (ChangeRound & { epoch: number }) | undefined;
  /** The epoch to wait for in "catch-up". */
  waitEpoch: number | undefined;
  /** Devices were added: they get the chat's name and kind in a message once done. */
  addedAny: boolean;
  error: OperationError | undefined;
};

export type ChangeInput =
  /** An earlier pending commit was settled (`ok`), or could not be for want of the server. */
  | { type: "settled"; ok: boolean }
  /** The next commit was built; undefined when there is nothing to commit (or nobody claimable). */
  | { type: "prepared"; commit: (ChangeRound & { epoch: number }) | undefined }
  | { type: "answer"; answer: ServerAnswer }
  | { type: "caught-up" };

export function startChange(add: string[], remove: string[]): ChangeState {
  return {
    phase: "settle",
    attempt: 0,
    add,
    remove,
    inFlight: undefined,
    waitEpoch: undefined,
    addedAny: false,
    error: undefined,
  };
}

export function changeStep(s: ChangeState, input: ChangeInput): ChangeState {
  switch (input.type) {
    case "settled":
      if (s.phase !== "settle") return s;
      return input.ok
        ? { ...s, phase: "prepare" }
        : fail(s, "offline", "cannot reach the server to finish an earlier change; try again");
    case "prepared":
      if (s.phase !== "prepare") return s;
      return input.commit ? { ...s, phase: "submit", inFlight: input.commit } : { ...s, phase: "done" };
    case "answer": {
      if (s.phase !== "submit" || !s.inFlight) return s;
      const sent = s.inFlight;
      const a = input.answer;
      if (a.kind === "accepted") {
        // Devices without a KeyPackage to claim are left out rather than retried: nothing would change.
        const next = {
          ...s,
          inFlight: undefined,
          addedAny: s.addedAny || sent.add.length > 0,
          remove: sent.remove.length > 0 ? [] : s.remove,
          add: sent.add.length > 0 ? [] : s.add,
        };
        return next.add.length > 0 || next.remove.length > 0
          ? { ...next, phase: "prepare" }
          : { ...next, phase: "done" };
      }
      if (a.kind === "stale-epoch") {
        const attempt = s.attempt + 1;
        if (attempt >= MAX_ATTEMPTS) return fail(s, "conflict", "the group kept changing; try again");
        return {
          ...s,
          phase: "catch-up",
          attempt,
          inFlight: undefined,
          waitEpoch: a.epoch ?? sent.epoch + 1,
        };
      }
      if (a.kind === "lost")
        return fail(s, "lost", "the server did not answer; the change is sent again once it is reachable");
      return fail(s, "refused", a.kind === "refused" ? a.code : a.kind);
    }
    case "caught-up":
      if (s.phase !== "catch-up") return s;
      return { ...s, phase: "settle", waitEpoch: undefined };
  }
}

// --- messages -----------------------------------------------------------------------------------------

/**
 * Sending one message: settle (a pending commit of the group goes first) → encrypt (only when there is
 * no ciphertext yet: after a lost answer the very same ciphertext is resent under the same id, which
 * the server recognises) → send → accepted: done; stale-epoch: catch up and encrypt again;
 * group-outdated: reconcile the group's devices and encrypt again; lost: wait for the link, resend.
 */
export type SendState = {
  phase: "settle" | "encrypt" | "send" | "catch-up" | "reconcile" | "wait-link" | "done" | "failed";
  attempt: number;
  /** Ciphertext exists for the current epoch. */
  encrypted: boolean;
  waitEpoch: number | undefined;
  error: OperationError | undefined;
};

export type SendInput =
  | { type: "settled"; ok: boolean }
  | { type: "encrypted" }
  | { type: "answer"; answer: ServerAnswer }
  /** The wait of catch-up, reconcile or wait-link is over. */
  | { type: "waited" };

export function startSend(): SendState {
  return { phase: "settle", attempt: 0, encrypted: false, waitEpoch: undefined, error: undefined };
}

export function sendStep(s: SendState, input: SendInput): SendState {
  switch (input.type) {
    case "settled":
      if (s.phase !== "settle") return s;
      if (!input.ok) return { ...s, phase: "wait-link" };
      return { ...s, phase: s.encrypted ? "send" : "encrypt" };
    case "encrypted":
      return s.phase === "encrypt" ? { ...s, phase: "send", encrypted: true } : s;
    case "answer": {
      if (s.phase !== "send") return s;
      const a = input.answer;
      switch (a.kind) {
        case "accepted":
          return { ...s, phase: "done" };
        case "stale-epoch":
          return { ...s, phase: "catch-up", encrypted: false, waitEpoch: a.epoch ?? 0 };
        case "group-outdated":
          return { ...s, phase: "reconcile", encrypted: false };
        case "lost":
          return { ...s, phase: "wait-link" };
        case "refused":
          return fail(s, "refused", a.code);
      }
      return s;
    }
    case "waited": {
      if (s.phase !== "catch-up" && s.phase !== "reconcile" && s.phase !== "wait-link") return s;
      const attempt = s.attempt + 1;
      if (attempt >= MAX_ATTEMPTS)
        return fail(s, "conflict", "could not send: the chat kept changing; try again");
      return { ...s, phase: "settle", attempt, waitEpoch: undefined };
    }
  }
}

function fail<S extends { phase: string; error: OperationError | undefined }>(
  s: S,
  code: OperationError["code"],
  message: string,
): S {
  return { ...s, phase: "failed", error: { code, message } };
}
