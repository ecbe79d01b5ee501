import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import { SqliteStore } from "./sqlite-store.ts";
import type { Store } from "./store.ts";
import { bytes, id, tempStoreDir } from "./store-test-fixtures.ts";
import { openThreadedStore } from "./threaded-store.ts";

/** Two users in a group of three devices (a's second device included), then messages from A. */
async function scenario(store: Store): Promise<unknown[]> {
  const user = (u: string, d: string): Promise<unknown> =>
    store.createUserWithDevice(
      { userId: id(u), username: `user${u}`, passwordHash: "scrypt$x", createdAt: 1, accountKey: null },
      { deviceId: id(d), userId: id(u), name: "d", signatureKey: bytes(1), createdAt: 1 },
      { tokenHash: `t${d}`, deviceId: id(d), createdAt: 1, expiresAt: 10 },
    );
  await user("a", "A");
  await user("b", "B");
  await store.createGroup(id("g"), 1, { deviceId: id("A"), userId: id("a") }, [id("B")], undefined);
  const send = (messageId: string, epoch: number): Promise<unknown> =>
    store.acceptMessage({
      kind: "message",
      groupId: id("g"),
      messageId: id(messageId),
      senderUserId: id("a"),
      senderDeviceId: id("A"),
      epoch,
      data: bytes(9, 8, 7, messageId.charCodeAt(0)),
      sentAt: 1234,
    });
  const one = [await send("m", 1), await send("n", 1), await send("m", 1), await send("o", 7)];
  // Made in one turn, these cross to the store thread together: their ciphertexts share one buffer.
  const together = await Promise.all([send("p", 1), send("q", 1), send("r", 1), store.ack(id("B"), 1)]);
  return [...one, ...together, await store.pending(id("B"), 0, 10)];
}

describe("the store thread", () => {
  it("answers exactly as the store does in-process, deliveries included", async () => {
    const direct = tempStoreDir();
    const threaded = tempStoreDir();
    const a = new SqliteStore({ dataDir: direct, durability: "normal" });
    const b = await openThreadedStore({ dataDir: threaded, durability: "normal" });
    try {
      const expected = await scenario(a);
      const got = await scenario(b);
      assert.deepEqual(got, expected);
      // The deliveries really carry the message: seq, ids and the ciphertext bytes.
      const first = got[0] as {
        status: string;
        enqueued: { deviceId: string; delivery: { data: Uint8Array } }[];
      };
      assert.equal(first.status, "accepted");
      assert.deepEqual(
        first.enqueued.map((e) => [e.deviceId, [...e.delivery.data]]),
        [[id("B"), [9, 8, 7, "m".charCodeAt(0)]]],
      );
      assert.deepEqual(
        got.slice(2, 4).map((r) => (r as { status: string }).status),
        ["duplicate", "stale-epoch"],
      );
      // Stored from the shared buffer at their own offsets: n, then p, q, r (m was acknowledged).
      const pending = got.at(-1) as { data: Uint8Array }[];
      assert.deepEqual(
        pending.map((d) => d.data.at(-1)),
        [..."npqr"].map((c) => c.charCodeAt(0)),
      );
    } finally {
      await a.close();
      await b.close();
      rmSync(direct, { recursive: true, force: true });
      rmSync(threaded, { recursive: true, force: true });
    }
  });
});
