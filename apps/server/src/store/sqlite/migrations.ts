import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../store-error.ts";
import { SCHEMA_VERSION, seenTableSql } from "./schema.ts";

/**
 * Brings a database made by any earlier server up to this one's schema, after SCHEMA_SQL has created
 * what was missing. Each step checks whether it is needed, so running them on every start is safe;
 * a database from a newer server is refused before anything of it changes.
 */
export function migrate(db: DatabaseSync): void {
  addMessageExpiry(db);
  const version = (
    db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value?: string } | undefined
  )?.value;
  if (version === undefined) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
  } else if (Number(version) > SCHEMA_VERSION) {
    throw new StoreError(
      "schema-too-new",
      `database schema ${version} is newer than this server (${SCHEMA_VERSION})`,
    );
  }
  migrateSeenKey(db);
}

/**
 * Disappearing messages: a message's undelivered copies are deleted at `expires_at` (ms; the server
 * sees only the number). Added to databases made before the column existed.
 */
function addMessageExpiry(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(messages)").all() as { name: string }[];
  if (!columns.some((c) => c.name === "expires_at"))
    db.exec("ALTER TABLE messages ADD COLUMN expires_at INTEGER");
  db.exec(
    "CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at) WHERE expires_at IS NOT NULL",
  );
}

/**
 * Schema 1 → 2: the duplicate check's key becomes (message_id, sender_device). Rebuilt in one
 * transaction, so a crash midway leaves schema 1 intact and the next start simply tries again.
 */
function migrateSeenKey(db: DatabaseSync): void {
  const pk = db.prepare("PRAGMA table_info(seen)").all() as { name: string; pk: number }[];
  if (pk.find((c) => c.name === "message_id")?.pk !== 2) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(seenTableSql("seen_v2"));
    db.exec(
      "INSERT INTO seen_v2 (message_id, sender_device, accepted_at, epoch) SELECT message_id, sender_device, accepted_at, epoch FROM seen",
    );
    db.exec("DROP TABLE seen");
    db.exec("ALTER TABLE seen_v2 RENAME TO seen");
    db.exec("UPDATE meta SET value = '2' WHERE key = 'schema'");
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
