import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { SqliteStore } from "./sqlite-store.ts";
import type { OutgoingMessage } from "./store.ts";
import {
  addApprovedDevice,
  addCompleteBlob,
  addTestKeyPackages,
  bytes,
  createTestUser,
  id,
  NO_QUOTA,
  openFreshStore,
} from "./store-test-fixtures.ts";

describe("SqliteStore: disappearing messages, retention, attachments", () => {
  let dir: string;
  let store: SqliteStore;

  const user = async (u: string, d: string): Promise<void> => {
    await createTestUser(store, u, d);
    await addTestKeyPackages(store, d, u, 1);
  };
  const msg = (mid: string, extra: Partial<OutgoingMessage> = {}): Omit<OutgoingMessage, "recipients"> => ({
    kind: "message",
    groupId: id("g"),
    messageId: id(mid),
    senderUserId: id("a"),
    senderDeviceId: id("A"),
    epoch: 1,
    data: bytes(7, 7),
    sentAt: Date.now(),
    ...extra,
  });

  beforeEach(async () => {
    ({ dir, store } = openFreshStore());
    await user("a", "A");
    await user("b", "B");
    await store.createGroup(id("g"), 1, { deviceId: id("A"), userId: id("a") }, [id("B")], undefined);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hides a disappearing message once due and purges it from messages and queue", async () => {
    const now = Date.now();
    assert.equal((await store.acceptMessage(msg("x", { expiresAt: now + 60_000 }))).status, "accepted");
    assert.equal((await store.acceptMessage(msg("y", { expiresAt: now - 1 }))).status, "accepted");
    assert.equal((await store.acceptMessage(msg("z"))).status, "accepted");
    // Already due: never pushed, even before the purge runs.
    assert.deepEqual(
      (await store.pending(id("B"), 0, 10)).map((d) => d.messageId),
      [id("x"), id("z")],
    );
    assert.equal(await store.purgeExpiredMessages(now, 100), 1);
    assert.equal(await store.purgeExpiredMessages(now + 120_000, 100), 1);
    assert.deepEqual(
      (await store.pending(id("B"), 0, 10)).map((d) => d.messageId),
      [id("z")],
    );
    assert.equal(await store.purgeExpiredMessages(now + 120_000, 100), 0);
  });

  it("purges undelivered messages older than the retention cut-off only", async () => {
    await store.acceptMessage(msg("o", { sentAt: 1000 }));
    await store.acceptMessage(msg("n", { sentAt: 5000 }));
    assert.equal(await store.purgeUndelivered(2000, 100), 1);
    assert.deepEqual(
      (await store.pending(id("B"), 0, 10)).map((d) => d.messageId),
      [id("n")],
    );
  });

  it("a message may refer only to complete blobs; the blob expires once every recipient fetched it", async () => {
    const now = Date.now();
    await store.createBlob(
      {
        blobId: id("f"),
        ownerDevice: id("A"),
        size: 10,
        createdAt: now,
        expiresAt: now + 1000,
      },
      NO_QUOTA,
    );
    assert.equal(await store.unsentBlobs(id("A"), now), 1);
    const before = await store.acceptMessage(msg("m", { blobs: [id("f")], blobsExpireAt: now + 86_400_000 }));
    assert.equal(before.status, "blob-missing");
    assert.equal((await store.acceptMessage(msg("u", { blobs: [id("q")] }))).status, "blob-missing");
    await store.setBlobReceived(id("f"), 10);
    const ok = await store.acceptMessage(msg("m", { blobs: [id("f")], blobsExpireAt: now + 86_400_000 }));
    assert.equal(ok.status, "accepted");
    assert.equal(await store.unsentBlobs(id("A"), now), 0, "a sent blob no longer counts as waiting");
    assert.equal(
      (await store.getBlob(id("f")))?.expiresAt,
      now + 86_400_000,
      "retention replaces the upload window",
    );
    assert.deepEqual(await store.expiredBlobs(now + 5000, 0, 10), []);
    await store.blobFetched(id("f"), id("A"), now + 1); // not a recipient: no effect
    assert.deepEqual(await store.expiredBlobs(now + 5000, 0, 10), []);
    await store.blobFetched(id("f"), id("B"), now + 2);
    assert.deepEqual(await store.expiredBlobs(now + 5000, 0, 10), [id("f")]);
    await store.deleteBlobRecords([id("f")]);
    assert.equal(await store.getBlob(id("f")), undefined);
  });

  it("revoking the last device that lacked a blob lets it go, and drops the device's link codes", async () => {
    const now = Date.now();
    await store.createBlob(
      {
        blobId: id("r"),
        ownerDevice: id("A"),
        size: 1,
        createdAt: now,
        expiresAt: now + 1000,
      },
      NO_QUOTA,
    );
    await store.setBlobReceived(id("r"), 1);
    await store.acceptMessage(msg("v", { blobs: [id("r")], blobsExpireAt: now + 86_400_000 }));
    await store.createDeviceLink({
      codeHash: "h",
      userId: id("b"),
      deviceId: id("B"),
      createdAt: now,
      expiresAt: now + 60_000,
    });
    await store.revokeDevice(id("B"), now + 5);
    assert.deepEqual(await store.expiredBlobs(now + 10, 0, 10), [id("r")]);
    const session = { tokenHash: "tnew", deviceId: id("N"), createdAt: now, expiresAt: now + 60_000 };
    const device = { deviceId: id("N"), name: "n", signatureKey: bytes(2), createdAt: now };
    const notice = {
      kind: "device-pending" as const,
      groupId: null,
      messageId: id("p"),
      senderUserId: "",
      senderDeviceId: id("N"),
      epoch: null,
      data: null,
      sentAt: now,
    };
    assert.deepEqual(await store.claimDeviceLink("h", now + 10, device, session, 10, notice), {
      status: "invalid",
    });
  });

  it("a message may name only blobs its device uploaded or was sent; its recipients may forward them", async () => {
    const now = Date.now();
    await user("c", "C");
    await store.createGroup(id("h"), 1, { deviceId: id("B"), userId: id("b") }, [id("C")], undefined);
    await store.createGroup(id("k"), 1, { deviceId: id("C"), userId: id("c") }, [], undefined);
    await addCompleteBlob(store, "f", "A", now);
    const expiring = { blobs: [id("f")], blobsExpireAt: now + 60_000 };
    // C learned the id somehow: naming it in its own group keeps nothing alive.
    /** A message from device `d` of user `u` to group `g`. */
    const from = (u: string, d: string, g: string): Partial<OutgoingMessage> => ({
      groupId: id(g),
      senderUserId: id(u),
      senderDeviceId: id(d),
    });
    const stranger = msg("s", { ...from("c", "C", "k"), ...expiring });
    assert.equal((await store.acceptMessage(stranger)).status, "blob-forbidden");
    assert.equal((await store.getBlob(id("f")))?.expiresAt, now + 1, "its expiry is unchanged");
    // Its uploader sends it to B, who forwards it to C (fetched or not): then C may too.
    assert.equal((await store.acceptMessage(msg("m", expiring))).status, "accepted");
    await store.blobFetched(id("f"), id("B"), now);
    const forward = msg("w", { ...from("b", "B", "h"), ...expiring });
    assert.equal((await store.acceptMessage(forward)).status, "accepted");
    assert.equal((await store.acceptMessage({ ...stranger, messageId: id("t") })).status, "accepted");
  });

  it("a blob goes once older than the retention cut-off, whatever expiry a message gave it", async () => {
    const now = Date.now();
    await addCompleteBlob(store, "o", "A", now - 10_000);
    // Year 255,479, as an old server accepted it.
    await store.acceptMessage(msg("m", { blobs: [id("o")], blobsExpireAt: 8e15 }));
    assert.deepEqual(await store.expiredBlobs(now, now - 20_000, 10), [], "within retention");
    assert.deepEqual(await store.expiredBlobs(now, now - 5_000, 10), [id("o")], "past it");
  });

  it("refuses a blob past its account's or the server's cap on stored bytes, recording nothing", async () => {
    const now = Date.now();
    const blob = (b: string, device: string, size: number): Parameters<SqliteStore["createBlob"]>[0] => ({
      blobId: id(b),
      ownerDevice: id(device),
      size,
      createdAt: now,
      expiresAt: now + 60_000,
    });
    const quota = { accountBytes: 100, totalBytes: 150 };
    assert.deepEqual(await store.createBlob(blob("f", "A", 60), quota), { status: "created" });
    // Counted at its full size though nothing was uploaded yet, so reserving cannot get round it.
    assert.deepEqual(await store.createBlob(blob("g", "A", 41), quota), {
      status: "account-full",
      stored: 60,
    });
    assert.equal(await store.getBlob(id("g")), undefined);
    // A second device of the same account shares its quota.
    await addApprovedDevice(store, "a", "E");
    assert.equal((await store.createBlob(blob("h", "E", 41), quota)).status, "account-full");
    assert.deepEqual(await store.createBlob(blob("i", "E", 40), quota), { status: "created" });
    // Another account has its own, up to the server's cap.
    assert.deepEqual(await store.createBlob(blob("j", "B", 51), quota), {
      status: "server-full",
      stored: 100,
    });
    assert.deepEqual(await store.createBlob(blob("k", "B", 50), quota), { status: "created" });
    // Blobs that go make room again.
    await store.deleteBlobRecords([id("f")]);
    assert.deepEqual(await store.createBlob(blob("g", "A", 60), quota), { status: "created" });
  });
});
