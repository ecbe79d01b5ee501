import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConcurrencyLimit } from "./concurrency-limit.ts";

describe("ConcurrencyLimit", () => {
  it("runs at most the limit at once, the rest in call order, failures freeing their slot", async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) =>
        limit.run(async () => {
          started.push(i);
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 5 + (i % 3)));
          running--;
          if (i === 1) throw new Error("task 1 fails");
          return i;
        }),
      ),
    );
    assert.equal(most, 2);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(results[1]!.status, "rejected");
    assert.deepEqual(
      results.filter((r) => r.status === "fulfilled").map((r) => r.value),
      [0, 2, 3, 4, 5, 6],
    );
    // Free again afterwards: a new task starts at once.
    assert.equal(await limit.run(() => Promise.resolve("after")), "after");
  });

  it("refuses a limit that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new ConcurrencyLimit(bad), RangeError);
  });
});
