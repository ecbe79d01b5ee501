import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { turnBatcher } from "./turn-batcher.ts";

describe("turnBatcher", () => {
  it("hands over what one turn queued as one batch, and the next turn's as another", async () => {
    const batches: number[][] = [];
    const add = turnBatcher<number>((b) => batches.push(b));
    add(1);
    add(2);
    add(3);
    assert.deepEqual(batches, [], "nothing before the turn ends");
    await new Promise((r) => setImmediate(r));
    add(4);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1, 2, 3], [4]]);
  });
});
