import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../store-error.ts";
import { SCHEMA_VERSION, seenTableSql } from "./schema.ts";

/**
 * Brings a database made by any earlier server up to this one's schema, after SCHEMA_SQL has created
 * what was missing. Each step checks whether it is needed, so running them on every start is safe;
 * a database from a newer server is refused before anything of it changes.
 */
export function migrate(db: DatabaseSync, now: number = Date.now()): void {
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
  addAccountKeys(db, now);
}

/**
 * Schema 2 → 3: accounts get an identity key, devices the certificate it made them (and what approving
 * a device takes). Devices from before have no certificate, and their MLS credentials none either:
 * every client of this version refuses them. They are signed out (the accounts stay, their people
 * sign in again and make their account key), in one transaction with the schema change.
 */
function addAccountKeys(db: DatabaseSync, now: number): void {
  const columns = (table: string): Set<string> =>
    new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  const user = columns("users");
  const device = columns("devices");
  const version = Number(
    (db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string }).value,
  );
  if (version >= 3 && user.has("account_key") && device.has("approved_at")) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    if (!user.has("account_key")) db.exec("ALTER TABLE users ADD COLUMN account_key BLOB");
    for (const [name, type] of [
      ["approved_at", "INTEGER"],
      ["certificate", "BLOB"],
      ["transfer_key", "BLOB"],
      ["link_proof", "BLOB"],
      ["linked_by", "TEXT"],
      ["sealed_key", "BLOB"],
    ] as const)
      if (!device.has(name)) db.exec(`ALTER TABLE devices ADD COLUMN ${name} ${type}`);
    if (version < 3) {
      const legacy = "SELECT id FROM devices WHERE approved_at IS NULL AND revoked_at IS NULL";
      db.prepare(`DELETE FROM sessions WHERE device_id IN (${legacy})`).run();
      db.prepare(`DELETE FROM key_packages WHERE device_id IN (${legacy})`).run();
      db.prepare(`DELETE FROM device_links WHERE device_id IN (${legacy})`).run();
      db.prepare("UPDATE devices SET revoked_at = ? WHERE approved_at IS NULL AND revoked_at IS NULL").run(
        now,
      );
      // Their queues are left to retention: acknowledging nothing, they age out like any undelivered copy.
    }
    db.exec("UPDATE meta SET value = '3' WHERE key = 'schema'");
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
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
