import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClientEvents } from "../client-events.ts";
import type { Directory } from "../device/directory.ts";
import { MemoryStorage } from "../storage/memory-storage.ts";
import { TypedEmitter } from "../util/typed-emitter.ts";
import { type ChatMessage, ChatStore, type SystemEvent } from "./chat-store.ts";
import { MAX_CLOCK_SKEW_MS, MAX_SEND_DELAY_MS, SenderOrder, shownTime } from "./sender-order.ts";

describe("the time a message is shown with", () => {
  const now = Date.UTC(2026, 11, 3, 12);
  it("is the sender's, whatever time the server claims it took the message", () => {
    const sent = now - 60_000;
    assert.equal(shownTime(sent, now - 1000, now), sent);
    assert.equal(shownTime(sent, Date.UTC(2000, 0, 1), now), sent, "re-dated into the past: no effect");
  });
  it("cannot lie in the future of this device's clock, nor far before the server took it", () => {
    assert.equal(shownTime(now + 86_400_000, now, now), now + MAX_CLOCK_SKEW_MS);
    assert.equal(shownTime(Date.UTC(1999, 0, 1), now, now), now - MAX_SEND_DELAY_MS);
    assert.equal(
      shownTime(now - 1000, Date.UTC(3000, 0, 1), now),
      now + MAX_CLOCK_SKEW_MS,
      "at most up to now",
    );
  });
  it("falls back to the server's time, never later than now, when the sender's is not a number", () => {
    assert.equal(shownTime(Number.NaN, now - 5, now), now - 5);
    assert.equal(shownTime(Number.NaN, now + 5, now), now);
  });
});

describe("numbered messages from one sender device", () => {
  const ann = { userId: "u-ann", deviceId: "d-ann" };
  async function setup(): Promise<{
    order: SenderOrder;
    lines: () => Promise<(SystemEvent | undefined)[]>;
    updates: ChatMessage[];
  }> {
    const storage = new MemoryStorage();
    const chats = new ChatStore(storage);
    const events = new TypedEmitter<ClientEvents>();
    const updates: ChatMessage[] = [];
    events.on("message-updated", (m) => updates.push(m));
    // SenderOrder asks the directory only for usernames.
    const directory = { usernameOf: async (): Promise<string> => "ann" } as unknown as Directory;
    const order = new SenderOrder({ storage, chats, events }, directory);
    const lines = async (): Promise<(SystemEvent | undefined)[]> =>
      (await chats.history("c1")).filter((m) => m.kind === "system").map((m) => m.system);
    return { order, lines, updates };
  }

  it("in order, or the same message again (a redelivery after a reload), says nothing", async () => {
    const { order, lines } = await setup();
    await order.arrived("c1", ann, 1, "m1");
    await order.arrived("c1", ann, 2, "m2");
    await order.arrived("c1", ann, 2, "m2");
    await order.arrived("c1", ann, 3, "m3");
    assert.deepEqual(await lines(), []);
  });

  it("a gap is one line, which shrinks as late messages come and becomes 'out of order' once closed", async () => {
    const { order, lines, updates } = await setup();
    await order.arrived("c1", ann, 1, "m1");
    await order.arrived("c1", ann, 4, "m4");
    await order.arrived("c1", ann, 4, "m4");
    assert.deepEqual(await lines(), [
      { event: "messages-missing", userId: "u-ann", username: "ann", count: 2 },
    ]);
    await order.arrived("c1", ann, 3, "m3");
    assert.deepEqual(await lines(), [
      { event: "messages-missing", userId: "u-ann", username: "ann", count: 1 },
    ]);
    await order.arrived("c1", ann, 2, "m2");
    assert.deepEqual(await lines(), [{ event: "reordered", userId: "u-ann", username: "ann" }]);
    assert.equal(updates.length, 2, "listeners heard both changes");
    await order.arrived("c1", ann, 5, "m5");
    assert.equal((await lines()).length, 1);
  });

  it("an old number outside any gap is a reordering, said once however often it is delivered", async () => {
    const { order, lines } = await setup();
    await order.arrived("c1", ann, 1, "m1");
    await order.arrived("c1", ann, 2, "m2");
    await order.arrived("c1", ann, 1, "replayed");
    await order.arrived("c1", ann, 1, "replayed");
    assert.deepEqual(await lines(), [{ event: "reordered", userId: "u-ann", username: "ann" }]);
  });
});
