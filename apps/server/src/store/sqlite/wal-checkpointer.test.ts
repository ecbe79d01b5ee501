import assert from "node:assert/strict";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { SqliteStore } from "../sqlite-store.ts";
import { createTestUser, tempStoreDir } from "../store-test-fixtures.ts";

/** Whether every page of the database is in its file, not only in the WAL. */
function checkpointed(dir: string): boolean {
  const file = join(dir, "sori.db");
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const pages = Number((db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count);
    const size = Number((db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
    return statSync(file).size >= pages * size;
  } finally {
    db.close();
  }
}

async function writeSome(checkpointMs: number): Promise<{ store: SqliteStore; dir: string }> {
  const dir = tempStoreDir();
  const store = new SqliteStore({ dataDir: dir, durability: "full", checkpointMs });
  for (const c of "abcdefghij") await createTestUser(store, c, c.toUpperCase());
  return { store, dir };
}

describe("the WAL checkpoint thread", { timeout: 20_000 }, () => {
  it("copies committed pages into the database file while the store keeps writing", async () => {
    const { store, dir } = await writeSome(20);
    try {
      const deadline = Date.now() + 5000;
      while (!checkpointed(dir)) {
        assert.ok(Date.now() < deadline, "the database file did not catch up within 5 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      await createTestUser(store, "k", "K");
      assert.equal((await store.findUserByUsername("userk"))?.username, "userk");
    } finally {
      await store.close();
      assert.equal(existsSync(join(dir, "sori.db-wal")), false, "closed last, the writer folded the WAL in");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is not there with 0: the pages stay in the WAL until SQLite's own checkpoint", async () => {
    const { store, dir } = await writeSome(0);
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(checkpointed(dir), false);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
