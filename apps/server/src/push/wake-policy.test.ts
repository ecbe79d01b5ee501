import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WakePolicy } from "./wake-policy.ts";

const timings = { quietMs: 120_000, callQuietMs: 10_000, burst: 3, refillMs: 60_000 };

describe("which wake-ups go out", () => {
  it("a burst of messages to an offline device is one push, until it connects or the quiet interval passes", () => {
    const p = new WakePolicy(timings);
    const sent = Array.from({ length: 20 }, (_, i) => p.decide("d1", "message", 1000 + i)).filter(
      (d) => d.send,
    );
    assert.equal(sent.length, 1);
    assert.deepEqual(p.decide("d1", "message", 2000), { send: false, why: "collapsed" });
    p.connected("d1");
    assert.deepEqual(p.decide("d1", "message", 3000), { send: true });
    assert.deepEqual(p.decide("d1", "message", 3000 + 119_000), { send: false, why: "collapsed" });
    assert.deepEqual(p.decide("d1", "message", 3000 + 120_000), { send: true });
    // Other devices are their own.
    assert.deepEqual(p.decide("d2", "message", 3000), { send: true });
  });

  it("a call wakes even right after a message, but its follow-ups within seconds do not", () => {
    const p = new WakePolicy(timings);
    assert.equal(p.decide("d1", "message", 0).send, true);
    assert.equal(p.decide("d1", "call", 1).send, true);
    assert.equal(p.decide("d1", "call", 5000).send, false);
    assert.equal(p.decide("d1", "call", 10_001).send, true);
  });

  it("limits pushes per device and says when the next one may go", () => {
    const p = new WakePolicy(timings);
    for (let i = 0; i < 3; i++) {
      assert.equal(p.decide("d1", "message", i).send, true);
      p.connected("d1");
    }
    const limited = p.decide("d1", "message", 3);
    assert.equal(limited.send, false);
    assert.ok(
      !limited.send && limited.why === "limited" && limited.retryInMs > 59_000 && limited.retryInMs <= 60_000,
    );
    assert.equal(p.decide("d1", "message", 60_010).send, true);
    // A wake-up that could not be sent gives its token back.
    p.connected("d1");
    const q = new WakePolicy(timings);
    for (let i = 0; i < 3; i++) {
      assert.equal(q.decide("d3", "message", i).send, true);
      q.unsent("d3", "message");
    }
    assert.equal(q.decide("d3", "message", 5).send, true);
  });
});
