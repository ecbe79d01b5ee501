import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  answerOf,
  type ChangeState,
  changeStep,
  MAX_ATTEMPTS,
  pendingCommitAction,
  planRound,
  reconcilePlan,
  type SendState,
  sendStep,
  shouldResendPending,
  startChange,
  startSend,
} from "./commit-machine.ts";

const m = (userId: string, deviceId: string): { userId: string; deviceId: string } => ({ userId, deviceId });

describe("commit machine: answers", () => {
  it("reduces error codes to what decides the next step", () => {
    assert.deepEqual(answerOf("stale-epoch", { epoch: 7 }), { kind: "stale-epoch", epoch: 7 });
    assert.deepEqual(answerOf("group-outdated", {}), { kind: "group-outdated" });
    assert.deepEqual(answerOf("offline", {}), { kind: "lost" });
    assert.deepEqual(answerOf("timeout", {}), { kind: "lost" });
    assert.deepEqual(answerOf("not-member", {}), { kind: "refused", code: "not-member" });
  });

  it("keeps a pending commit only when its answer was lost, adopts it only when accepted", () => {
    assert.equal(pendingCommitAction({ kind: "accepted" }), "adopt");
    assert.equal(pendingCommitAction({ kind: "lost" }), "keep");
    assert.equal(pendingCommitAction({ kind: "stale-epoch", epoch: 3 }), "drop");
    assert.equal(pendingCommitAction({ kind: "refused", code: "rate-limited" }), "drop");
  });

  it("resends a pending commit only while the group is still at its epoch", () => {
    assert.equal(shouldResendPending(4, 4), true);
    assert.equal(shouldResendPending(4, 5), false, "applied, or another commit won");
    assert.equal(shouldResendPending(4, undefined), false, "the group is gone");
  });
});

describe("commit machine: planning", () => {
  const members = [m("a", "A1"), m("a", "A2"), m("b", "B1")];

  it("removes first, never this device, and only members", () => {
    assert.deepEqual(planRound(members, "A1", ["C1"], ["A1", "B1", "X9"]), { remove: ["B1"], add: [] });
  });

  it("adds only devices that are not members yet, each once", () => {
    assert.deepEqual(planRound(members, "A1", ["B1", "B2", "B2"], []), { remove: [], add: ["B2"] });
    assert.equal(planRound(members, "A1", ["B1"], ["A1"]), undefined);
  });

  it("reconciles with the directory only for users who are members per MLS", () => {
    const plan = reconcilePlan(
      members,
      [m("a", "A1"), m("b", "B1"), m("b", "B2"), m("stranger", "S1")],
      "A1",
    );
    assert.deepEqual(plan, { add: ["B2"], remove: ["A2"] });
  });
});

describe("commit machine: a member change", () => {
  const commit = (add: string[], remove: string[], epoch = 3): ChangeState["inFlight"] => ({
    add,
    remove,
    epoch,
  });

  it("settles, prepares, submits and finishes, announcing added devices", () => {
    let s = startChange(["B2"], []);
    s = changeStep(s, { type: "settled", ok: true });
    assert.equal(s.phase, "prepare");
    s = changeStep(s, { type: "prepared", commit: commit(["B2"], []) });
    assert.equal(s.phase, "submit");
    s = changeStep(s, { type: "answer", answer: { kind: "accepted" } });
    assert.equal(s.phase, "done");
    assert.equal(s.addedAny, true);
  });

  it("does a removal and then an add in two rounds", () => {
    let s = startChange(["C1"], ["B1"]);
    s = changeStep(changeStep(s, { type: "settled", ok: true }), {
      type: "prepared",
      commit: commit([], ["B1"]),
    });
    s = changeStep(s, { type: "answer", answer: { kind: "accepted" } });
    assert.equal(s.phase, "prepare", "the add is still to do");
    assert.deepEqual(s.remove, []);
    s = changeStep(s, { type: "prepared", commit: commit(["C1"], [], 4) });
    s = changeStep(s, { type: "answer", answer: { kind: "accepted" } });
    assert.equal(s.phase, "done");
  });

  it("ends at once when there is nothing to commit", () => {
    const s = changeStep(changeStep(startChange([], ["X"]), { type: "settled", ok: true }), {
      type: "prepared",
      commit: undefined,
    });
    assert.equal(s.phase, "done");
    assert.equal(s.addedAny, false);
  });

  it("catches up after stale-epoch (to the server's epoch, else the next) and tries again", () => {
    let s = changeStep(changeStep(startChange(["B2"], []), { type: "settled", ok: true }), {
      type: "prepared",
      commit: commit(["B2"], [], 3),
    });
    const told = changeStep(s, { type: "answer", answer: { kind: "stale-epoch", epoch: 9 } });
    assert.equal(told.phase, "catch-up");
    assert.equal(told.waitEpoch, 9);
    s = changeStep(s, { type: "answer", answer: { kind: "stale-epoch", epoch: undefined } });
    assert.equal(s.waitEpoch, 4);
    s = changeStep(s, { type: "caught-up" });
    assert.equal(s.phase, "settle");
    assert.deepEqual(s.add, ["B2"], "the change is redone from the new epoch");
  });

  it("gives up with conflict after MAX_ATTEMPTS lost races", () => {
    let s = startChange(["B2"], []);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      s = changeStep(s, { type: "settled", ok: true });
      s = changeStep(s, { type: "prepared", commit: commit(["B2"], [], i) });
      s = changeStep(s, { type: "answer", answer: { kind: "stale-epoch", epoch: i + 1 } });
      if (s.phase === "failed") break;
      s = changeStep(s, { type: "caught-up" });
    }
    assert.equal(s.phase, "failed");
    assert.equal(s.error?.code, "conflict");
    assert.equal(s.attempt, MAX_ATTEMPTS - 1);
  });

  it("fails offline when an earlier pending commit cannot be settled, and on a lost or refused answer", () => {
    assert.equal(changeStep(startChange(["B2"], []), { type: "settled", ok: false }).error?.code, "offline");
    const submitted = changeStep(changeStep(startChange(["B2"], []), { type: "settled", ok: true }), {
      type: "prepared",
      commit: commit(["B2"], []),
    });
    assert.equal(changeStep(submitted, { type: "answer", answer: { kind: "lost" } }).error?.code, "lost");
    assert.equal(
      changeStep(submitted, { type: "answer", answer: { kind: "refused", code: "not-member" } }).error?.code,
      "refused",
    );
  });

  it("ignores inputs that do not belong to the phase", () => {
    const s = startChange(["B2"], []);
    assert.equal(changeStep(s, { type: "answer", answer: { kind: "accepted" } }), s);
    assert.equal(changeStep(s, { type: "caught-up" }), s);
  });
});

describe("commit machine: sending a message", () => {
  const sent = (s: SendState): SendState =>
    sendStep(sendStep(sendStep(s, { type: "settled", ok: true }), { type: "encrypted" }), {
      type: "answer",
      answer: { kind: "accepted" },
    });

  it("encrypts once and sends", () => {
    assert.equal(sent(startSend()).phase, "done");
  });

  it("resends the same ciphertext after a lost answer", () => {
    let s = sendStep(sendStep(startSend(), { type: "settled", ok: true }), { type: "encrypted" });
    s = sendStep(s, { type: "answer", answer: { kind: "lost" } });
    assert.equal(s.phase, "wait-link");
    s = sendStep(sendStep(s, { type: "waited" }), { type: "settled", ok: true });
    assert.equal(s.phase, "send", "no new encryption: the server recognises the resend by its id");
  });

  it("encrypts again after stale-epoch (having caught up) and after group-outdated (having reconciled)", () => {
    let s = sendStep(sendStep(startSend(), { type: "settled", ok: true }), { type: "encrypted" });
    const stale = sendStep(s, { type: "answer", answer: { kind: "stale-epoch", epoch: 5 } });
    assert.deepEqual([stale.phase, stale.waitEpoch, stale.encrypted], ["catch-up", 5, false]);
    s = sendStep(s, { type: "answer", answer: { kind: "group-outdated" } });
    assert.equal(s.phase, "reconcile");
    s = sendStep(sendStep(s, { type: "waited" }), { type: "settled", ok: true });
    assert.equal(s.phase, "encrypt");
  });

  it("waits for the link when a pending commit cannot be settled", () => {
    assert.equal(sendStep(startSend(), { type: "settled", ok: false }).phase, "wait-link");
  });

  it("gives up with conflict after MAX_ATTEMPTS rounds, and fails at once when refused", () => {
    let s = startSend();
    for (let i = 0; i < MAX_ATTEMPTS && s.phase !== "failed"; i++) {
      s = sendStep(sendStep(s, { type: "settled", ok: true }), { type: "encrypted" });
      s = sendStep(s, { type: "answer", answer: { kind: "stale-epoch", epoch: i } });
      s = sendStep(s, { type: "waited" });
    }
    assert.equal(s.error?.code, "conflict");
    const refused = sendStep(
      sendStep(sendStep(startSend(), { type: "settled", ok: true }), { type: "encrypted" }),
      {
        type: "answer",
        answer: { kind: "refused", code: "too-large" },
      },
    );
    assert.deepEqual([refused.phase, refused.error?.message], ["failed", "too-large"]);
  });
});
