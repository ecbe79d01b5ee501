import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AddressSlots } from "./address-slots.ts";

describe("AddressSlots", () => {
  it("refuses beyond the limit per address, independently for each address", () => {
    const slots = new AddressSlots(2);
    assert.equal(slots.take("a"), true);
    assert.equal(slots.take("a"), true);
    assert.equal(slots.take("a"), false);
    assert.equal(slots.take("b"), true);
    assert.equal(slots.held, 3);
  });

  it("frees a slot on release and forgets an address once it holds none", () => {
    const slots = new AddressSlots(1);
    assert.equal(slots.take("a"), true);
    slots.release("a");
    assert.equal(slots.held, 0);
    assert.equal(slots.take("a"), true);
    slots.release("a");
    slots.release("a");
    assert.equal(slots.held, 0, "an extra release does not go negative");
    assert.equal(slots.take("a"), true);
    assert.equal(slots.take("a"), false);
  });
});
