import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { safetyNumberOf } from "./safety-number.ts";

describe("safety numbers", () => {
  const k = (n: number): Uint8Array => new Uint8Array(32).fill(n);
  it("are 60 digits, the same from both sides, independent of device order", async () => {
    const a = { userId: "alice-id", deviceKeys: [k(1), k(2)] };
    const b = { userId: "bob-id", deviceKeys: [k(3)] };
    const ab = await safetyNumberOf(a, b);
    const ba = await safetyNumberOf(b, { userId: "alice-id", deviceKeys: [k(2), k(1)] });
    assert.match(ab.digits, /^\d{60}$/);
    assert.equal(ab.groups.length, 12);
    assert.equal(ab.digits, ba.digits);
    assert.equal(ab.qr, ba.qr);
  });
  it("change when a device key is added or replaced", async () => {
    const b = { userId: "bob-id", deviceKeys: [k(3)] };
    const base = await safetyNumberOf({ userId: "alice-id", deviceKeys: [k(1)] }, b);
    const added = await safetyNumberOf({ userId: "alice-id", deviceKeys: [k(1), k(4)] }, b);
    const replaced = await safetyNumberOf({ userId: "alice-id", deviceKeys: [k(5)] }, b);
    assert.notEqual(base.digits, added.digits);
    assert.notEqual(base.digits, replaced.digits);
    // Only alice's half changes.
    assert.equal(base.digits.slice(30), added.digits.slice(30));
  });
});
