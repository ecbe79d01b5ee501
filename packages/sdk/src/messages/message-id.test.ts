import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Id } from "@sori/protocol";
import { newMessageId } from "./message-id.ts";

describe("newMessageId", () => {
  it("is a valid protocol id of 28 characters", () => {
    const id = newMessageId();
    assert.equal(id.length, 28);
    assert.ok(Id.safeParse(id).success, id);
  });

  it("sorts by creation time as a plain string, across digit boundaries", () => {
    const times = [0, 9, 10, 15, 16, 255, 256, 1_700_000_000_000, 1_800_000_000_000, 0xffff_ffff_ffff];
    const ids = times.map((t) => newMessageId(t));
    assert.deepEqual([...ids].sort(), ids);
  });

  it("differs for ids made in the same millisecond", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newMessageId(1_800_000_000_000)));
    assert.equal(ids.size, 1000);
  });

  it("clamps clocks outside 48 bits instead of making an invalid id", () => {
    for (const t of [-5, 2 ** 60, Number.NaN]) assert.ok(Id.safeParse(newMessageId(t)).success, String(t));
  });
});
