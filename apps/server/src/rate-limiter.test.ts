import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RateLimiter } from "./rate-limiter.ts";

describe("RateLimiter", () => {
  it("allows `limit` events per window per key, then tells how long to wait", () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 60_000, () => now);
    assert.deepEqual([limiter.take("a"), limiter.take("a"), limiter.take("a")], [0, 0, 0]);
    assert.equal(limiter.take("a"), 60);
    assert.equal(limiter.take("b"), 0, "keys are independent");
    now += 30_000;
    assert.equal(limiter.take("a"), 30);
    now += 30_000;
    assert.equal(limiter.take("a"), 0, "a new window starts");
  });
});
