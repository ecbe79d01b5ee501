import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "./migrations.ts";
import { SCHEMA_SQL } from "./schema.ts";

/** Where the database lives and how SQLite may use memory and disk. */
export type DatabaseOptions = {
  dataDir: string;
  /**
   * Largest size of the database file in bytes (0 or absent: no cap). Past it new writes fail with
   * StoreError("full"), as on a full disk, while reads and deletions (acks) keep working.
   */
  maxBytes?: number;
  /**
   * SQLite's page cache in MB (absent: SQLite's 2 MB). Pages are cached only once read, so a small
   * database costs no more; a large one keeps the group and member lookups of `send` off the disk.
   */
  cacheMb?: number;
  /**
   * Reads the first this many MB of the database file through a memory map instead of read calls
   * (absent or 0: none). Writes still go through SQLite's journal as before.
   */
  mmapMb?: number;
};

const DB_FILE = "sori.db";

/** The database file and its WAL and shared-memory files, for tests that inspect what is at rest. */
export function databaseFiles(dataDir: string): { db: string; wal: string; shm: string } {
  const db = join(dataDir, DB_FILE);
  return { db, wal: `${db}-wal`, shm: `${db}-shm` };
}

/**
 * Opens (or creates) the database in WAL mode with synchronous=NORMAL (the engine syncs the WAL
 * itself for durability "full"), creates the schema and migrates an older one.
 */
export function openDatabase(options: DatabaseOptions): DatabaseSync {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(databaseFiles(options.dataDir).db);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  if (options.cacheMb) db.exec(`PRAGMA cache_size = ${-Math.floor(options.cacheMb * 1024)}`);
  if (options.mmapMb) db.exec(`PRAGMA mmap_size = ${Math.floor(options.mmapMb * 1048576)}`);
  db.exec(SCHEMA_SQL);
  if (options.maxBytes) {
    const pageSize = Number(
      (db.prepare("PRAGMA page_size").get() as { page_size?: number } | undefined)?.page_size ?? 4096,
    );
    db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
  }
  migrate(db);
  return db;
}
