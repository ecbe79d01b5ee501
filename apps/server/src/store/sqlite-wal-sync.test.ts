import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SqliteStore } from "./sqlite-store.ts";
import { StoreError } from "./store-error.ts";
import { createTestUser, tempStoreDir } from "./store-test-fixtures.ts";

type Sync = (error: Error | null) => void;

/** A "full" store whose WAL syncs the test completes by hand, in the order they were asked for. */
function storeWithManualSync(): { store: SqliteStore; syncs: Sync[]; dir: string } {
  const dir = tempStoreDir();
  const syncs: Sync[] = [];
  const store = new SqliteStore({ dataDir: dir, durability: "full", syncWal: (done) => syncs.push(done) });
  return { store, syncs, dir };
}

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
    it("holds each batch's answer until a sync begun after its commit completes", async () => {
      const { store, syncs, dir } = storeWithManualSync();
      try {
        const first = createTestUser(store, "a", "A");
        assert.equal(await settled(first), false, "committed but not yet synced");
        assert.equal(syncs.length, 1, "a sync started right after the commit");
        // Committed while that sync runs: the sync may have begun before this write reached the file.
        const second = createTestUser(store, "b", "B");
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
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses the writes a failed sync covered, and every later one, while reads go on", async () => {
      const { store, syncs, dir } = storeWithManualSync();
      try {
        const kept = createTestUser(store, "a", "A");
        await settled(kept);
        syncs[0]!(null);
        await kept;
        const lost = createTestUser(store, "b", "B");
        await settled(lost);
        // Committed while that sync runs, so waiting for the next one.
        const alsoLost = createTestUser(store, "d", "D");
        await settled(alsoLost);
        syncs[1]!(Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }));
        await assert.rejects(lost, (e: unknown) => e instanceof StoreError && e.code === "unavailable");
        await assert.rejects(alsoLost, (e: unknown) => e instanceof StoreError && e.code === "unavailable");
        await assert.rejects(
          createTestUser(store, "c", "C"),
          (e: unknown) => e instanceof StoreError && e.code === "unavailable",
          "fail-stop: no write is taken after a failed sync",
        );
        assert.equal(syncs.length, 2, "the refused write was not committed, so nothing more to sync");
        assert.equal((await store.findUserByUsername("usera"))?.username, "usera", "reads still work");
        assert.equal((await store.stats()).writable, false, "reported, for /healthz and /metrics");
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("close() settles what is committed before it closes the database", async () => {
      const { store, syncs, dir } = storeWithManualSync();
      try {
        const write = createTestUser(store, "a", "A");
        const closing = store.close();
        assert.equal(await settled(closing), false, "waits for the sync of the last batch");
        assert.equal(await settled(write), false);
        syncs[0]!(null);
        await write;
        await closing;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("syncs the real WAL file by default", async () => {
      const dir = tempStoreDir();
      const store = new SqliteStore({ dataDir: dir, durability: "full" });
      try {
        await createTestUser(store, "a", "A");
        assert.ok(existsSync(join(dir, "sori.db-wal")));
        assert.equal((await store.findUserByUsername("usera"))?.username, "usera");
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
