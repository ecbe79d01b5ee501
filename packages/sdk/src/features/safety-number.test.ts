import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { safetyNumberOf } from "./safety-number.ts";

describe("safety numbers", () => {
  const k = (n: number): Uint8Array => new Uint8Array(32).fill(n);
  it("are 60 digits, the same from both sides", async () => {
    const a = { userId: "alice-id", accountKey: k(1) };
    const b = { userId: "bob-id", accountKey: k(3) };
    const ab = await safetyNumberOf(a, b);
    const ba = await safetyNumberOf(b, a);
    assert.match(ab.digits, /^\d{60}$/);
    assert.equal(ab.groups.length, 12);
    assert.equal(ab.digits, ba.digits);
    assert.equal(ab.qr, ba.qr);
    assert.match(ab.qr, /^sori-safety:2:/);
  });
  it("change only in the half of the user whose account key changed", async () => {
    const b = { userId: "bob-id", accountKey: k(3) };
    const base = await safetyNumberOf({ userId: "alice-id", accountKey: k(1) }, b);
    const replaced = await safetyNumberOf({ userId: "alice-id", accountKey: k(5) }, b);
    assert.notEqual(base.digits, replaced.digits);
    assert.equal(base.digits.slice(30), replaced.digits.slice(30));
    assert.notEqual(base.digits.slice(0, 30), replaced.digits.slice(0, 30));
  });
  it("depend on the user id too (a key cannot be reused for another user)", async () => {
    const b = { userId: "bob-id", accountKey: k(3) };
    const one = await safetyNumberOf({ userId: "alice-id", accountKey: k(1) }, b);
    const two = await safetyNumberOf({ userId: "alicf-id", accountKey: k(1) }, b);
    assert.notEqual(one.digits, two.digits);
  });
});
