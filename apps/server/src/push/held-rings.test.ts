import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WireRelay } from "@sori/protocol";
import { HeldRings } from "./held-rings.ts";

const G = "GGGGGGGGGGGGGGGGGGGGGG";
const relay = (messageId: string, groupId = G, deviceId = "caller-device"): WireRelay => ({
  type: "relay",
  groupId,
  messageId,
  from: { userId: "caller", deviceId },
  epoch: 1,
  data: "AAAA",
  sentAt: 0,
});

describe("rings held for offline devices", () => {
  it("keeps a ring and what follows it in the same chat, until the device connects", () => {
    let now = 0;
    const held = new HeldRings(() => now);
    held.hold(["b1", "b2"], relay("ring"));
    held.follow(["b1", "b2"], relay("candidates"));
    held.follow(["b1"], relay("other-chat", "HHHHHHHHHHHHHHHHHHHHHH"));
    held.follow(["b1"], relay("answered-elsewhere", G, "bobs-laptop"));
    held.follow(["c1"], relay("not-held"));
    now = 10_000;
    assert.deepEqual(
      held.take("b1").map((r) => r.messageId),
      ["ring", "candidates", "answered-elsewhere"],
    );
    assert.deepEqual(held.take("b1"), [], "taken once");
    assert.deepEqual(held.take("c1"), []);
    now = 46_000;
    assert.deepEqual(held.take("b2"), [], "a ring is held only as long as it rings");
  });

  it("a new ring replaces the old one, and a device holds a bounded number of signals", () => {
    const held = new HeldRings(() => 0);
    held.hold(["b1"], relay("first"));
    held.hold(["b1"], relay("second"));
    for (let i = 0; i < 100; i++) held.follow(["b1"], relay(`c${i}`));
    const got = held.take("b1");
    assert.equal(got[0]!.messageId, "second");
    assert.equal(got.length, 64);
  });
});
