import assert from "node:assert/strict";
import fs, { fstatSync, rmSync, statSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { join } from "node:path";
import { describe, it, mock } from "node:test";
import { SqliteStore } from "../sqlite-store.ts";
import { StoreError } from "../store-error.ts";
import { bytes, createTestUser, id, tempStoreDir } from "../store-test-fixtures.ts";

type Sync = (error: Error | null) => void;

type ManualSync = { store: SqliteStore; syncs: Sync[]; dir: string };

/**
 * Runs `test` on a "full" store whose WAL syncs the test completes by hand, in the order they were
 * asked for. Afterwards every outstanding and later sync is completed, so a failed assertion cannot
 * leave close() waiting for a sync nobody completes; then the store is closed and its directory removed.
 */
async function withManualSync(test: (t: ManualSync) => Promise<void>): Promise<void> {
  const dir = tempStoreDir();
  const syncs: Sync[] = [];
  const completed = new Set<Sync>();
  let released = false;
  const syncWal = (done: Sync): void => {
    const once: Sync = (error) => {
      if (completed.has(once)) return;
      completed.add(once);
      done(error);
    };
    if (released) setImmediate(() => once(null));
    else syncs.push(once);
  };
  const store = new SqliteStore({ dataDir: dir, durability: "full", syncWal });
  try {
    await test({ store, syncs, dir });
  } finally {
    released = true;
    for (const sync of syncs) sync(null);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const eio = (): Error => Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
const unavailable = (e: unknown): boolean => e instanceof StoreError && e.code === "unavailable";

/** Whether a promise has settled, observed after the store's batch turn has run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe(
  "durability full: writes are acknowledged only once a WAL sync covers them",
  { timeout: 10_000 },
  () => {
    it("holds each batch's answer until a sync begun after its commit completes", async () =>
      withManualSync(async ({ store, syncs }) => {
        const first = createTestUser(store, "a", "A", false);
        assert.equal(await settled(first), false, "committed but not yet synced");
        assert.equal(syncs.length, 1, "a sync started right after the commit");
        // Committed while that sync runs: the sync may have begun before this write reached the file.
        const second = createTestUser(store, "b", "B", false);
        assert.equal(await settled(second), false);
        assert.equal(syncs.length, 1, "one sync at a time");
        syncs[0]!(null);
        assert.equal(await settled(first), true);
        assert.equal(await settled(second), false, "the first sync does not count for the second batch");
        assert.equal(syncs.length, 2, "the next sync starts as soon as the first is done");
        syncs[1]!(null);
        await second;
        assert.equal((await store.stats()).writable, true);
        assert.equal((await store.findUserByUsername("userb"))?.username, "userb");
        const closing = store.close();
        assert.equal(await settled(closing), true, "nothing left to sync");
      }));

    it("refuses the writes a failed sync covered, and every later one, while reads go on", async () =>
      withManualSync(async ({ store, syncs }) => {
        const kept = createTestUser(store, "a", "A", false);
        await settled(kept);
        syncs[0]!(null);
        await kept;
        const lost = createTestUser(store, "b", "B", false);
        await settled(lost);
        // Committed while that sync runs, so waiting for the next one.
        const alsoLost = createTestUser(store, "d", "D", false);
        await settled(alsoLost);
        syncs[1]!(eio());
        await assert.rejects(lost, unavailable);
        await assert.rejects(alsoLost, unavailable);
        const later = createTestUser(store, "c", "C", false);
        assert.equal(await settled(later), true, "fail-stop: refused at once, not committed to wait");
        await assert.rejects(later, unavailable, "fail-stop: no write is taken after a failed sync");
        assert.equal(syncs.length, 2, "the refused write was not committed, so nothing more to sync");
        assert.equal((await store.findUserByUsername("usera"))?.username, "usera", "reads still work");
        assert.equal((await store.stats()).writable, false, "reported, for /healthz and /metrics");
        await store.close();
      }));

    it("close() settles what is committed before it closes the database", async () =>
      withManualSync(async ({ store, syncs }) => {
        const write = createTestUser(store, "a", "A", false);
        const closing = store.close();
        assert.equal(store.close(), closing, "closing twice waits for the same end");
        assert.equal(await settled(closing), false, "waits for the sync of the last batch");
        assert.equal(await settled(write), false);
        syncs[0]!(null);
        await write;
        await closing;
      }));

    it("hands out a queue entry only once what was committed before the read is durable", async () => {
      const dir = tempStoreDir();
      const held: Sync[] = [];
      let hold = false;
      const store = new SqliteStore({
        dataDir: dir,
        durability: "full",
        syncWal: (done) => (hold ? held.push(done) : setImmediate(() => done(null))),
      });
      try {
        await createTestUser(store, "a", "A", false);
        await createTestUser(store, "b", "B", false);
        await store.createGroup(id("g"), 1, { deviceId: id("A"), userId: id("a") }, [id("B")], undefined);
        hold = true;
        const sent = store.acceptMessage({
          kind: "message",
          groupId: id("g"),
          messageId: id("m"),
          senderUserId: id("a"),
          senderDeviceId: id("A"),
          epoch: 1,
          data: bytes(7),
          sentAt: 1,
        });
        assert.equal(await settled(sent), false);
        // A power loss now could take the entry back and give its seq to the next message.
        const read = store.pending(id("B"), 0, 10);
        assert.equal(await settled(read), false, "the read waits for the sync");
        held.shift()!(null);
        assert.equal((await sent).status, "accepted");
        assert.deepEqual(
          (await read).map((d) => d.messageId),
          [id("m")],
        );
      } finally {
        hold = false;
        for (const done of held.splice(0)) done(null);
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses a write queued before a sync failed, and keeps nothing of it", async () =>
      withManualSync(async ({ store, syncs, dir }) => {
        const kept = createTestUser(store, "a", "A", false);
        await settled(kept);
        const queued = createTestUser(store, "q", "Q", false);
        // Fails before the queued write's batch runs (that is the next turn).
        syncs[0]!(eio());
        await assert.rejects(kept, unavailable);
        assert.equal(await settled(queued), true, "refused at once, not committed to wait for a sync");
        await assert.rejects(queued, unavailable);
        const read = store.pending(id("A"), 0, 10);
        assert.equal(await settled(read), true, "refused at once, not left waiting for a sync");
        await assert.rejects(read, "no queue read after a failed sync");
        await store.close();
        const reopened = new SqliteStore({ dataDir: dir, durability: "normal" });
        assert.equal(await reopened.findUserByUsername("userq"), undefined, "never committed");
        await reopened.close();
      }));

    it("fsyncs the WAL file itself by default", async () => {
      const dir = tempStoreDir();
      const synced: number[] = [];
      const real = fs.fsync;
      mock.method(fs, "fsync", (fd: number, done: (error: Error | null) => void) => {
        synced.push(fd);
        real(fd, done);
      });
      syncBuiltinESMExports();
      const store = new SqliteStore({ dataDir: dir, durability: "full" });
      try {
        await createTestUser(store, "a", "A", false);
        assert.ok(synced.length >= 1, "an fsync before the write was acknowledged");
        const wal = statSync(join(dir, "sori.db-wal"));
        for (const fd of synced) assert.equal(fstatSync(fd).ino, wal.ino, "the fd is the WAL file's");
        assert.equal((await store.findUserByUsername("usera"))?.username, "usera");
      } finally {
        await store.close();
        mock.restoreAll();
        syncBuiltinESMExports();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
