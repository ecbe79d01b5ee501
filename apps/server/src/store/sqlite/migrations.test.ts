import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { SqliteStore } from "../sqlite-store.ts";
import { StoreError } from "../store-error.ts";
import { bytes, createTestUser, id, tempStoreDir } from "../store-test-fixtures.ts";
import { SCHEMA_VERSION } from "./schema.ts";

/** Turns a current database back into schema 1 (seen keyed by sender device first), rows kept. */
function downgradeToSchema1(dir: string): void {
  const db = new DatabaseSync(join(dir, "sori.db"));
  db.exec(`
CREATE TABLE seen_v1 (sender_device TEXT NOT NULL, message_id TEXT NOT NULL, accepted_at INTEGER NOT NULL,
  epoch INTEGER, PRIMARY KEY (sender_device, message_id)) WITHOUT ROWID;
INSERT INTO seen_v1 SELECT sender_device, message_id, accepted_at, epoch FROM seen;
DROP TABLE seen;
ALTER TABLE seen_v1 RENAME TO seen;
UPDATE meta SET value = '1' WHERE key = 'schema';`);
  db.close();
}

const send = (
  store: SqliteStore,
  messageId: string,
  sentAt: number,
): ReturnType<SqliteStore["acceptMessage"]> =>
  store.acceptMessage({
    kind: "message",
    groupId: id("g"),
    messageId,
    senderUserId: id("a"),
    senderDeviceId: id("A"),
    epoch: 1,
    data: bytes(1, 2, 3),
    sentAt,
  });

/** A database in `dir` holding one message from A to B in group g, accepted at `sentAt`; closed again. */
async function databaseWithOneMessage(dir: string, messageId: string, sentAt: number): Promise<void> {
  const store = new SqliteStore({ dataDir: dir, durability: "normal" });
  await createTestUser(store, "a", "A");
  await createTestUser(store, "b", "B");
  await store.createGroup(id("g"), 1, { deviceId: id("A"), userId: id("a") }, [id("B")], undefined);
  assert.equal((await send(store, messageId, sentAt)).status, "accepted");
  await store.close();
}

describe("SqliteStore schema migration", () => {
  it("moves a schema-1 database to schema 2 and still recognises messages accepted before", async () => {
    const dir = tempStoreDir();
    try {
      await databaseWithOneMessage(dir, id("m"), 100);
      downgradeToSchema1(dir);

      const store = new SqliteStore({ dataDir: dir, durability: "normal" });
      try {
        const again = await send(store, id("m"), 200);
        assert.deepEqual(again, { status: "duplicate", sentAt: 100 }, "the resend is still a no-op");
        assert.equal((await send(store, id("n"), 300)).status, "accepted");
        assert.equal((await store.pending(id("B"), 0, 10)).length, 2, "queued messages were kept");
      } finally {
        await store.close();
      }
      const db = new DatabaseSync(join(dir, "sori.db"), { readOnly: true });
      const meta = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string };
      const key = (db.prepare("PRAGMA table_info(seen)").all() as { name: string; pk: number }[])
        .filter((c) => c.pk > 0)
        .sort((x, y) => x.pk - y.pk)
        .map((c) => c.name);
      db.close();
      assert.equal(meta.value, String(SCHEMA_VERSION));
      assert.deepEqual(key, ["message_id", "sender_device"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("adds message expiry and the attachment tables to a database made before them, keeping its data", async () => {
    const dir = tempStoreDir();
    try {
      await databaseWithOneMessage(dir, id("k"), Date.now());
      const db = new DatabaseSync(join(dir, "sori.db"));
      db.exec(
        "DROP INDEX messages_by_expiry; ALTER TABLE messages DROP COLUMN expires_at; DROP TABLE blobs; DROP TABLE blob_pending",
      );
      db.close();
      const store = new SqliteStore({ dataDir: dir, durability: "normal" });
      try {
        assert.deepEqual(
          (await store.pending(id("B"), 0, 10)).map((d) => d.messageId),
          [id("k")],
        );
        const expiring = await store.acceptMessage({
          kind: "message",
          groupId: id("g"),
          messageId: id("e"),
          senderUserId: id("a"),
          senderDeviceId: id("A"),
          epoch: 1,
          data: bytes(1),
          sentAt: Date.now(),
          expiresAt: Date.now() + 5,
        });
        assert.equal(expiring.status, "accepted");
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("moves a schema-2 database to account keys: accounts stay, devices from before are signed out", async () => {
    const dir = tempStoreDir();
    try {
      await databaseWithOneMessage(dir, id("m"), Date.now());
      // As a schema-2 server left it: no account keys, no certificates or approvals.
      const db = new DatabaseSync(join(dir, "sori.db"));
      db.exec(`ALTER TABLE users DROP COLUMN account_key;
        ALTER TABLE devices DROP COLUMN approved_at; ALTER TABLE devices DROP COLUMN certificate;
        ALTER TABLE devices DROP COLUMN transfer_key; ALTER TABLE devices DROP COLUMN link_proof;
        ALTER TABLE devices DROP COLUMN linked_by; ALTER TABLE devices DROP COLUMN sealed_key;
        UPDATE meta SET value = '2' WHERE key = 'schema';`);
      db.close();
      const store = new SqliteStore({ dataDir: dir, durability: "normal" });
      try {
        assert.equal(
          (await store.findUserByUsername("usera"))?.accountKey,
          null,
          "the account is kept, without a key",
        );
        const devices = await store.listDevices(id("a"));
        assert.equal(devices.length, 1);
        assert.ok(
          devices[0]!.revokedAt !== null,
          "its device (whose credentials carry no certificate) is signed out",
        );
        assert.equal(await store.findSession("tA", 0), undefined, "its session is gone");
        assert.deepEqual(await store.keyPackageStatus(id("A")), { remaining: 0, hasLastResort: false });
      } finally {
        await store.close();
      }
      const after = new DatabaseSync(join(dir, "sori.db"), { readOnly: true });
      assert.deepEqual(
        { ...(after.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as object) },
        { value: "3" },
      );
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a database from a newer server and leaves it as it was", async () => {
    const dir = tempStoreDir();
    try {
      await new SqliteStore({ dataDir: dir, durability: "normal" }).close();
      const db = new DatabaseSync(join(dir, "sori.db"));
      db.exec(`UPDATE meta SET value = '${SCHEMA_VERSION + 1}' WHERE key = 'schema'`);
      db.close();
      assert.throws(
        () => new SqliteStore({ dataDir: dir, durability: "normal" }),
        (e: unknown) => e instanceof StoreError && e.code === "schema-too-new",
      );
      const after = new DatabaseSync(join(dir, "sori.db"), { readOnly: true });
      assert.deepEqual(
        { ...(after.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as object) },
        { value: String(SCHEMA_VERSION + 1) },
      );
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
