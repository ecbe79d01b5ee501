import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccountAndAddressLimit, RateLimiter } from "./rate-limiter.ts";

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

describe("AccountAndAddressLimit", () => {
  it("limits each account, and every account of one address together at ten times that", () => {
    let now = 1_000_000;
    const limit = new AccountAndAddressLimit(10, () => now);
    assert.equal(limit.take({ userId: "a", address: "x" }, 10), 0);
    assert.equal(limit.take({ userId: "a", address: "x" }, 1), 60, "the account's share is used up");
    // The refused request was not charged to the address: nine more accounts fill it exactly.
    for (let i = 0; i < 9; i++) assert.equal(limit.take({ userId: `u${i}`, address: "x" }, 10), 0);
    assert.equal(limit.take({ userId: "new", address: "x" }, 1), 60, "the address's share is used up");
    assert.equal(limit.take({ userId: "new", address: "y" }, 1), 0, "another address is not");
    assert.equal(limit.take({ userId: "other" }, 10), 0, "without an address only the account counts");
    now += 60_000;
    assert.equal(limit.take({ userId: "a", address: "x" }, 10), 0, "a new minute");
  });
});
