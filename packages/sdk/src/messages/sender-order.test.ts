import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_CLOCK_SKEW_MS, MAX_SEND_DELAY_MS, shownTime } from "./sender-order.ts";

describe("the time a message is shown with", () => {
  const now = Date.UTC(2026, 11, 3, 12);
  it("is the sender's, whatever time the server claims it took the message", () => {
    const sent = now - 60_000;
    assert.equal(shownTime(sent, now - 1000, now), sent);
    assert.equal(shownTime(sent, Date.UTC(2000, 0, 1), now), sent, "re-dated into the past: no effect");
  });
  it("cannot lie in the future of this device's clock, nor far before the server took it", () => {
    assert.equal(shownTime(now + 86_400_000, now, now), now + MAX_CLOCK_SKEW_MS);
    assert.equal(shownTime(Date.UTC(1999, 0, 1), now, now), now - MAX_SEND_DELAY_MS);
    assert.equal(
      shownTime(now - 1000, Date.UTC(3000, 0, 1), now),
      now + MAX_CLOCK_SKEW_MS,
      "at most up to now",
    );
  });
  it("falls back to the server's time, never later than now, when the sender's is not a number", () => {
    assert.equal(shownTime(Number.NaN, now - 5, now), now - 5);
    assert.equal(shownTime(Number.NaN, now + 5, now), now);
  });
});
