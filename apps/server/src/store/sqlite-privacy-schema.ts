import type { DatabaseSync } from "node:sqlite";

/**
 * Additions for disappearing messages, retention and attachments (issue 5), applied to new and
 * existing databases alike: each step checks whether it is needed, so it is safe on every start.
 */
export function migratePrivacy(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(messages)").all() as { name: string }[];
  // A disappearing message's undelivered copies are deleted at this time (ms); the server sees only the number.
  if (!columns.some((c) => c.name === "expires_at"))
    db.exec("ALTER TABLE messages ADD COLUMN expires_at INTEGER");
  db.exec(`
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at) WHERE expires_at IS NOT NULL;
-- Encrypted attachments: the bytes live in <data>/blobs/<id>; this is their bookkeeping.
CREATE TABLE IF NOT EXISTS blobs (
  id TEXT PRIMARY KEY,
  owner_device TEXT NOT NULL,
  size INTEGER NOT NULL,
  received INTEGER NOT NULL DEFAULT 0,
  referenced INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_by_expiry ON blobs(expires_at);
-- Recipient devices that have not fetched a blob yet; when none is left it is deleted.
-- Short-lived codes an existing device shows so a new one can join the account without the password.
CREATE TABLE IF NOT EXISTS device_links (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_pending (
  blob_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (blob_id, device_id)
) WITHOUT ROWID;
`);
}
