import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { afterEach, beforeEach, describe, it } from "node:test";
import { SqliteStore } from "./sqlite-store.ts";
import { StoreError } from "./store-error.ts";
import {
  addTestKeyPackages,
  bytes,
  createTestUser,
  id,
  openFreshStore,
  tempStoreDir,
  addApprovedDevice,
} from "./store-test-fixtures.ts";
import type { OutgoingMessage } from "./store.ts";

describe("SqliteStore (the Delivery Service's rules at the storage layer)", () => {
  let dir: string;
  let store: SqliteStore;

  const user = async (u: string, d: string): Promise<void> => {
    await createTestUser(store, u, d);
    await activate(d, u);
  };
  const activate = (d: string, u: string): ReturnType<SqliteStore["addKeyPackages"]> =>
    addTestKeyPackages(store, d, u, 2);
  const msg = (
    from: string,
    fromUser: string,
    mid: string,
    epoch: number,
  ): Omit<OutgoingMessage, "recipients"> => ({
    kind: "message",
    groupId: id("g"),
    messageId: id(mid),
    senderUserId: id(fromUser),
    senderDeviceId: id(from),
    epoch,
    data: bytes(7, 7),
    sentAt: 100,
  });
  const commit = (from: string, fromUser: string, mid: string, epoch: number): OutgoingMessage => ({
    ...msg(from, fromUser, mid, epoch),
    kind: "commit",
    recipients: [],
  });

  beforeEach(async () => {
    ({ dir, store } = openFreshStore());
    await user("a", "A");
    await user("b", "B");
    await store.createGroup(id("g"), 1, { deviceId: id("A"), userId: id("a") }, [id("B")], {
      ...commit("A", "a", "w", 1),
      kind: "welcome",
      recipients: [id("B")],
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("queues a message for every other member device, once, in order, and acks delete it", async () => {
    const first = await store.acceptMessage(msg("A", "a", "1", 1));
    assert.equal(first.status, "accepted");
    const again = await store.acceptMessage(msg("A", "a", "1", 1));
    assert.equal(again.status, "duplicate", "a resend with the same id is a no-op");
    await store.acceptMessage(msg("A", "a", "2", 1));
    const pending = await store.pending(id("B"), 0, 10);
    assert.deepEqual(
      pending.map((p) => [p.kind, p.messageId]),
      [
        ["welcome", id("w")],
        ["message", id("1")],
        ["message", id("2")],
      ],
    );
    assert.deepEqual(await store.pending(id("A"), 0, 10), [], "the sender gets no copy");
    assert.equal(await store.ack(id("B"), pending[1]!.seq), 2);
    assert.deepEqual(
      (await store.pending(id("B"), 0, 10)).map((p) => p.messageId),
      [id("2")],
    );
  });

  it("accepts one commit per epoch and refuses stale ones without changing anything", async () => {
    const ok = await store.applyCommit(id("g"), 1, [], [], commit("A", "a", "c", 1), undefined);
    assert.deepEqual(ok.status, "accepted");
    const stale = await store.applyCommit(id("g"), 1, [], [], commit("B", "b", "d", 1), undefined);
    assert.deepEqual(stale, { status: "stale-epoch", epoch: 2 });
    assert.equal((await store.getGroup(id("g")))?.epoch, 2);
    const staleSend = await store.acceptMessage(msg("B", "b", "3", 1));
    assert.deepEqual(staleSend, { status: "stale-epoch", epoch: 2 });
    const notMember = await store.applyCommit(id("g"), 2, [], [], commit("Z", "z", "e", 2), undefined);
    assert.equal(notMember.status, "not-member");
  });

  it("answers a resend as a duplicate even after its epoch passed or its sender was removed", async () => {
    assert.equal((await store.acceptMessage(msg("B", "b", "1", 1))).status, "accepted");
    const removed = await store.applyCommit(id("g"), 1, [], [id("B")], commit("A", "a", "c", 1), undefined);
    assert.equal(removed.status, "accepted");
    const queued = (await store.pending(id("A"), 0, 10)).length;
    assert.deepEqual(await store.acceptMessage(msg("B", "b", "1", 1)), { status: "duplicate", sentAt: 100 });
    assert.deepEqual(await store.acceptMessage(msg("B", "b", "1", 2)), { status: "duplicate", sentAt: 100 });
    assert.equal(
      (await store.acceptMessage(msg("B", "b", "2", 2))).status,
      "not-member",
      "a new id is refused",
    );
    assert.equal((await store.pending(id("A"), 0, 10)).length, queued, "nothing more was queued");
  });

  it("refuses sends while a member user's active device is missing from the group", async () => {
    await addApprovedDevice(store, "b", "C", { name: "laptop", signatureKey: bytes(2), at: 2 });
    assert.equal(
      (await store.acceptMessage(msg("A", "a", "4", 1))).status,
      "accepted",
      "a device without KeyPackages is not active yet",
    );
    const { enqueued } = await activate("C", "b");
    assert.deepEqual(
      enqueued.map((e) => [e.deviceId, e.delivery.kind]),
      [[id("B"), "device-added"]],
    );
    assert.deepEqual(await store.acceptMessage(msg("A", "a", "5", 1)), {
      status: "group-outdated",
      missingDevices: [id("C")],
      revokedDevices: [],
    });
    await store.applyCommit(id("g"), 1, [id("C")], [], commit("A", "a", "f", 1), {
      ...commit("A", "a", "fw", 2),
      kind: "welcome",
      recipients: [],
    });
    assert.equal((await store.acceptMessage(msg("A", "a", "6", 2))).status, "accepted");
    await store.revokeDevice(id("C"), 3);
    assert.deepEqual(await store.acceptMessage(msg("A", "a", "7", 2)), {
      status: "group-outdated",
      missingDevices: [],
      revokedDevices: [id("C")],
    });
    assert.deepEqual(await store.pending(id("C"), 0, 10), [], "a revoked device's queue is dropped");
  });

  it("hands out one-time KeyPackages first, then the last-resort one without consuming it", async () => {
    const claims = [];
    for (let i = 0; i < 4; i++)
      claims.push((await store.claimKeyPackages([id("B")])).claimed[0]?.keyPackage[1]);
    assert.deepEqual(claims, [1, 2, 99, 99]);
    assert.deepEqual((await store.claimKeyPackages([id("Q")])).missing, [id("Q")]);
    assert.deepEqual(await store.keyPackageStatus(id("B")), { remaining: 0, hasLastResort: true });
  });

  it("keeps one push subscription per device, deletes a gone one only if unchanged, and drops it with the device", async () => {
    const sub = (endpoint: string, at: number) => ({
      deviceId: id("B"),
      endpoint,
      p256dh: bytes(4, 1, 2),
      auth: bytes(9, 9),
      createdAt: at,
    });
    assert.equal(await store.setPushSubscription(sub("https://push.example/1", 1)), "saved");
    assert.equal(await store.setPushSubscription(sub("https://push.example/2", 2)), "saved");
    const [got] = await store.pushSubscriptions([id("B"), id("A"), id("Z")]);
    assert.deepEqual(got, { ...sub("https://push.example/2", 2), userId: id("b") });
    // A 410 for the old endpoint arriving after the device subscribed anew removes nothing.
    assert.equal(await store.deletePushSubscription(id("B"), "https://push.example/1"), false);
    assert.equal((await store.pushSubscriptions([id("B")])).length, 1);
    assert.equal(await store.deletePushSubscription(id("B"), "https://push.example/2"), true);
    assert.deepEqual(await store.pushSubscriptions([id("B")]), []);
    await store.setPushSubscription(sub("https://push.example/3", 3));
    await store.revokeDevice(id("B"), 5);
    assert.deepEqual(await store.pushSubscriptions([id("B")]), [], "a revoked device is never woken");
    assert.equal(await store.setPushSubscription(sub("https://push.example/4", 6)), "no-device");
    assert.equal(
      await store.setPushSubscription({ ...sub("https://push.example/5", 7), deviceId: id("Q") }),
      "no-device",
    );
    assert.deepEqual(await store.pushSubscriptions([id("B"), id("Q")]), []);
  });

  it("keeps everything across a reopen", async () => {
    await store.acceptMessage(msg("A", "a", "8", 1));
    await store.close();
    store = new SqliteStore({ dataDir: dir, durability: "full" });
    assert.equal((await store.getGroup(id("g")))?.epoch, 1);
    assert.deepEqual(
      (await store.pending(id("B"), 0, 10)).map((p) => p.messageId),
      [id("w"), id("8")],
    );
    assert.equal((await store.findUserByUsername("USERA"))?.userId, id("a"));
  });

  it("isolates a failing write in a batch: the others in the same transaction still commit", async () => {
    const results = await Promise.allSettled([
      store.acceptMessage(msg("A", "a", "9", 1)),
      store.createGroup(id("h"), 1, { deviceId: id("A"), userId: id("a") }, [id("X")], {
        ...commit("A", "a", "hw", 1),
        kind: "welcome",
        recipients: [id("X")],
      }),
      store.acceptMessage(msg("A", "a", "0", 1)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.equal(await store.getGroup(id("h")), undefined, "the failed group was rolled back whole");
    assert.deepEqual((await store.pending(id("B"), 0, 10)).map((p) => p.messageId).slice(1), [
      id("9"),
      id("0"),
    ]);
  });
});

/** Runs `fn` on a fresh store holding one user "a" with device "A", then deletes it. */
async function withOneUserStore(fn: (store: SqliteStore) => Promise<void>): Promise<void> {
  const { dir, store } = openFreshStore();
  try {
    await createTestUser(store, "a", "A");
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("SqliteStore limits", () => {
  it("caps one-time KeyPackages atomically and stores a resent one once", () =>
    withOneUserStore(async (store) => {
      const notice: OutgoingMessage = {
        kind: "device-added",
        groupId: null,
        messageId: id("n"),
        senderUserId: id("a"),
        senderDeviceId: id("A"),
        epoch: null,
        data: null,
        sentAt: 5,
        recipients: [],
      };
      const batch = (start: number): Uint8Array[] => Array.from({ length: 3 }, (_, i) => bytes(start + i));
      // Concurrent uploads land in one transaction; only what fits under the cap is kept.
      const results = await Promise.allSettled([
        store.addKeyPackages(id("A"), batch(0), undefined, notice, 4),
        store.addKeyPackages(id("A"), batch(10), undefined, notice, 4),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected"],
      );
      const again = await store.addKeyPackages(id("A"), [bytes(0), bytes(1)], undefined, notice, 4);
      assert.equal(again.remaining, 3, "a resent KeyPackage is not stored twice");
    }));
});

describe("SqliteStore maintenance", () => {
  it("forgets message ids older than the retention window, in bounded chunks", () =>
    withOneUserStore(async (store) => {
      await store.createGroup(id("g"), 0, { deviceId: id("A"), userId: id("a") }, [], undefined);
      const send = (mid: string, sentAt: number): ReturnType<SqliteStore["acceptMessage"]> =>
        store.acceptMessage({
          kind: "message",
          groupId: id("g"),
          messageId: mid,
          senderUserId: id("a"),
          senderDeviceId: id("A"),
          epoch: 0,
          data: bytes(1),
          sentAt,
        });
      for (let i = 0; i < 5; i++) await send(`old${i}`.padEnd(22, "x"), 100);
      await send("new".padEnd(22, "x"), 10_000);
      assert.equal(await store.pruneSeen(5_000, 3), 3);
      assert.equal(await store.pruneSeen(5_000, 3), 2);
      assert.equal(await store.pruneSeen(5_000, 3), 0);
      assert.equal((await send("new".padEnd(22, "x"), 10_001)).status, "duplicate", "recent ids are kept");
      assert.equal(
        (await send("old0".padEnd(22, "x"), 10_002)).status,
        "accepted",
        "forgotten ids are new again",
      );
    }));
});

describe("SqliteStore when the disk is full", () => {
  it("refuses new writes with StoreError full, keeps every accepted one, and recovers once space is freed", async () => {
    const dir = tempStoreDir();
    // 256 KB, as a full disk would: max_page_count makes SQLite answer "database or disk is full".
    const store = new SqliteStore({ dataDir: dir, durability: "normal", maxBytes: 256 * 1024 });
    try {
      for (const [u, d] of [
        ["a", "A"],
        ["b", "B"],
      ] as const) {
        await createTestUser(store, u, d);
      }
      await store.createGroup(id("g"), 0, { deviceId: id("A"), userId: id("a") }, [id("B")], undefined);
      const send = (n: number): ReturnType<SqliteStore["acceptMessage"]> =>
        store.acceptMessage({
          kind: "message",
          groupId: id("g"),
          messageId: `m${n}`.padEnd(22, "x"),
          senderUserId: id("a"),
          senderDeviceId: id("A"),
          epoch: 0,
          data: new Uint8Array(20_000).fill(n),
          sentAt: n,
        });
      const accepted: number[] = [];
      let refusal: unknown;
      for (let n = 0; n < 40 && refusal === undefined; n++) {
        try {
          assert.equal((await send(n)).status, "accepted");
          accepted.push(n);
        } catch (error) {
          refusal = error;
        }
      }
      assert.ok(refusal instanceof StoreError && refusal.code === "full", `refused with ${String(refusal)}`);
      assert.ok(accepted.length >= 3, `accepted ${accepted.length} before the cap`);
      // In one batch with a write that does not fit, a small one still commits.
      const [big, small] = await Promise.allSettled([send(99), store.touchDevice(id("B"), 1234)]);
      assert.equal(big.status, "rejected");
      assert.equal(small.status, "fulfilled");
      const queued = await store.pending(id("B"), 0, 100);
      assert.deepEqual(
        queued.map((q) => q.sentAt),
        accepted,
        "every accepted message is still queued, in order",
      );
      assert.equal(queued[0]!.data![0], accepted[0]);
      // The recipient acknowledges (deletes) what it got: the space is reused and sends work again.
      await store.ack(id("B"), queued.at(-1)!.seq);
      assert.equal((await send(100)).status, "accepted");
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
