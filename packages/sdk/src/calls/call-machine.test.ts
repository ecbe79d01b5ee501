import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CallInput,
  DEFAULT_TIMINGS,
  initialState,
  type MachineState,
  transition,
} from "./call-machine.ts";

function run(start: MachineState, inputs: CallInput[]): { state: MachineState; effects: string[] } {
  let state = start;
  const effects: string[] = [];
  for (const i of inputs) {
    const r = transition(state, i);
    state = r.next;
    for (const e of r.effects)
      effects.push(
        e.type === "send"
          ? `send:${e.signal}${e.unreachable ? ":unreachable" : ""}`
          : e.type === "send-cancel"
            ? `cancel:${e.reason}`
            : e.type,
      );
  }
  return { state, effects };
}

test("an answered call connects, keeps its start time through a reconnect, and hangs up", () => {
  const r = run(initialState("outgoing"), [
    { type: "remote-accept" },
    { type: "ice", state: "checking", now: 1 },
    { type: "ice", state: "connected", now: 1000 },
    { type: "ice", state: "disconnected", now: 2000 },
    { type: "ice", state: "connected", now: 3000 },
    { type: "local-hangup" },
  ]);
  assert.equal(r.state.state, "ended");
  assert.equal(r.state.endReason, "hangup");
  assert.equal(r.state.connectedAt, 1000);
  assert.deepEqual(r.effects, [
    "arm-reconnect-timer",
    "clear-reconnect-timer",
    "arm-reconnect-timer",
    "clear-reconnect-timer",
    "send:hangup",
    "teardown",
  ]);
});

test("the caller restarts ICE on failure, within a bounded budget, then gives up", () => {
  let s = run(initialState("outgoing"), [
    { type: "remote-accept" },
    { type: "ice", state: "connected", now: 1 },
  ]).state;
  const restarts: number[] = [];
  for (let i = 0; i < DEFAULT_TIMINGS.maxRestarts + 1; i++) {
    const r = transition(s, i === 0 ? { type: "ice", state: "failed", now: 2 } : { type: "reconnect-timer" });
    s = r.next;
    restarts.push(r.effects.filter((e) => e.type === "restart-ice").length);
  }
  assert.deepEqual(restarts, [1, 1, 1, 1, 1, 0]);
  assert.equal(s.state, "ended");
  assert.equal(s.endReason, "failed");
});

test("after disconnected the caller waits a grace period before restarting; the callee only waits", () => {
  const connected = (d: "outgoing" | "incoming"): MachineState =>
    run(initialState(d), [
      d === "outgoing" ? { type: "remote-accept" } : { type: "local-accept" },
      { type: "ice", state: "connected", now: 1 },
    ]).state;
  const caller = transition(connected("outgoing"), { type: "ice", state: "disconnected", now: 2 });
  assert.equal(caller.next.state, "reconnecting");
  assert.deepEqual(caller.effects, [
    { type: "arm-reconnect-timer", ms: DEFAULT_TIMINGS.disconnectedGraceMs },
  ]);
  assert.deepEqual(
    transition(caller.next, { type: "reconnect-timer" }).effects.map((e) => e.type),
    ["restart-ice", "arm-reconnect-timer"],
  );
  const callee = transition(connected("incoming"), { type: "ice", state: "failed", now: 2 });
  assert.equal(callee.next.state, "reconnecting");
  assert.deepEqual(callee.effects, [{ type: "arm-reconnect-timer", ms: DEFAULT_TIMINGS.calleeWaitMs }]);
  assert.equal(transition(callee.next, { type: "reconnect-timer" }).next.endReason, "failed");
});

test("ringing ends as declined, busy, no-answer, cancelled, missed or handled elsewhere", () => {
  const out = initialState("outgoing");
  const inc = initialState("incoming");
  const cases: [MachineState, CallInput, string, string[]][] = [
    [out, { type: "remote-decline" }, "declined", ["teardown"]],
    [out, { type: "remote-busy" }, "busy", ["cancel:busy", "teardown"]],
    [out, { type: "ring-timeout" }, "no-answer", ["cancel:no-answer", "teardown"]],
    [out, { type: "local-hangup" }, "cancelled", ["cancel:cancelled", "teardown"]],
    [inc, { type: "remote-cancel" }, "missed", ["teardown"]],
    [inc, { type: "ring-timeout" }, "missed", ["teardown"]],
    [inc, { type: "local-decline" }, "declined", ["send:decline", "teardown"]],
    // A gateway passes on what the phone network said.
    [inc, { type: "local-decline", reason: "busy" }, "busy", ["send:busy", "teardown"]],
    [
      inc,
      { type: "local-decline", reason: "unreachable" },
      "unreachable",
      ["send:decline:unreachable", "teardown"],
    ],
    [out, { type: "remote-decline", unreachable: true }, "unreachable", ["teardown"]],
    [inc, { type: "answered-elsewhere" }, "answered-elsewhere", ["teardown"]],
    [inc, { type: "declined-elsewhere" }, "declined-elsewhere", ["teardown"]],
  ];
  for (const [start, input, reason, effects] of cases) {
    const r = run(start, [input]);
    assert.equal(r.state.endReason, reason, input.type);
    assert.deepEqual(r.effects, effects, input.type);
  }
});

test("a device that accepted a moment too late ends as answered elsewhere, not as a hangup", () => {
  const late = run(initialState("incoming"), [{ type: "local-accept" }, { type: "answered-elsewhere" }]);
  assert.equal(late.state.endReason, "answered-elsewhere");
  const connected = run(initialState("incoming"), [
    { type: "local-accept" },
    { type: "ice", state: "connected", now: 1 },
    { type: "answered-elsewhere" },
  ]);
  assert.equal(connected.state.state, "connected");
});

test("inputs that make no sense in a state change nothing (late or forged signals)", () => {
  const inc = initialState("incoming");
  for (const input of [
    { type: "remote-accept" },
    { type: "remote-busy" },
    { type: "ice", state: "connected", now: 1 },
    { type: "reconnect-timer" },
  ] as CallInput[]) {
    assert.deepEqual(transition(inc, input), { next: inc, effects: [] }, input.type);
  }
  const ended = run(initialState("outgoing"), [{ type: "remote-decline" }]).state;
  assert.deepEqual(transition(ended, { type: "remote-accept" }), { next: ended, effects: [] });
});

test("early media: the caller's unanswered call plays the other network's audio and ends like a ringing one", () => {
  const early = run(initialState("outgoing"), [{ type: "remote-early" }]).state;
  assert.equal(early.state, "early-media");
  // ICE that connects meanwhile is not an answer.
  assert.deepEqual(transition(early, { type: "ice", state: "connected", now: 1 }), {
    next: early,
    effects: [],
  });
  const cases: [CallInput, string, string[]][] = [
    [{ type: "remote-busy" }, "busy", ["cancel:busy", "teardown"]],
    [{ type: "remote-decline" }, "declined", ["teardown"]],
    [{ type: "remote-decline", unreachable: true }, "unreachable", ["teardown"]],
    [{ type: "local-hangup" }, "cancelled", ["cancel:cancelled", "teardown"]],
    [{ type: "ring-timeout" }, "no-answer", ["cancel:no-answer", "teardown"]],
    [{ type: "fatal" }, "failed", ["cancel:cancelled", "teardown"]],
  ];
  for (const [input, reason, effects] of cases) {
    const r = run(early, [input]);
    assert.equal(r.state.endReason, reason, input.type);
    assert.deepEqual(r.effects, effects, input.type);
  }
  const answered = run(early, [{ type: "remote-accept" }, { type: "ice", state: "connected", now: 5 }]);
  assert.equal(answered.state.state, "connected");
  assert.equal(answered.state.connectedAt, 5, "the call's time starts at the answer, not at early media");
  // Only a ringing caller takes early media: not a callee, not an answered call, not twice.
  const inc = initialState("incoming");
  assert.deepEqual(transition(inc, { type: "remote-early" }), { next: inc, effects: [] });
  assert.equal(transition(answered.state, { type: "remote-early" }).next.state, "connected");
  assert.equal(transition(early, { type: "remote-early" }).next, early);
});
