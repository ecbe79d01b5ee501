import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBuckets } from "./token-bucket.ts";

describe("TokenBuckets", () => {
  it("allows a burst of `capacity`, then the refill rate, per key", () => {
    let now = 0;
    const b = new TokenBuckets(3, 1, () => now);
    assert.deepEqual([b.take("a"), b.take("a"), b.take("a")], [0, 0, 0]);
    assert.equal(b.take("a"), 1);
    assert.equal(b.take("b"), 0, "another key has its own bucket");
    now += 1000;
    assert.equal(b.take("a"), 0);
    assert.equal(b.take("a"), 1);
    now += 60_000;
    assert.deepEqual(
      [b.take("a"), b.take("a"), b.take("a"), b.take("a")],
      [0, 0, 0, 1],
      "never above capacity",
    );
  });

  it("says how long to wait at a slow rate", () => {
    let now = 0;
    const b = new TokenBuckets(1, 0.1, () => now);
    assert.equal(b.take("a"), 0);
    assert.equal(b.take("a"), 10);
    now += 5000;
    assert.equal(b.take("a"), 5);
  });
});
