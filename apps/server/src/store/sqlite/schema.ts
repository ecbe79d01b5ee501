/**
 * Schema of the embedded SQLite store, created if absent on every start. Bump SCHEMA_VERSION and add a
 * step to migrations.ts on any change that is not a new table or index.
 */
export const SCHEMA_VERSION = 3;

/** The duplicate check's table (schema 2), by name so a migration can build it beside the old one. */
export function seenTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  message_id TEXT NOT NULL,
  sender_device TEXT NOT NULL,
  accepted_at INTEGER NOT NULL,
  epoch INTEGER,
  PRIMARY KEY (message_id, sender_device)
) WITHOUT ROWID;`;
}

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  account_key BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  signature_key BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  activated_at INTEGER,
  revoked_at INTEGER,
  approved_at INTEGER,
  certificate BLOB,
  transfer_key BLOB,
  link_proof BLOB,
  linked_by TEXT,
  sealed_key BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_by_user ON devices(user_id);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_device ON sessions(device_id);
CREATE TABLE IF NOT EXISTS key_packages (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  data BLOB NOT NULL,
  last_resort INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS key_packages_by_device ON key_packages(device_id, last_resort, id);
-- A resent upload (after a lost answer) must not store a KeyPackage twice: two claimers would get it.
CREATE UNIQUE INDEX IF NOT EXISTS key_packages_unique ON key_packages(device_id, data);
CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
  group_id TEXT NOT NULL REFERENCES groups(id),
  device_id TEXT NOT NULL REFERENCES devices(id),
  PRIMARY KEY (group_id, device_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS group_members_by_device ON group_members(device_id);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  group_id TEXT,
  message_id TEXT NOT NULL,
  sender_user TEXT NOT NULL,
  sender_device TEXT NOT NULL,
  epoch INTEGER,
  data BLOB,
  sent_at INTEGER NOT NULL,
  remaining INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  message INTEGER NOT NULL REFERENCES messages(id)
);
CREATE INDEX IF NOT EXISTS queue_by_device ON queue(device_id, seq);
-- Deleting a message checks the foreign key from queue; without this index every ack scans the queue.
CREATE INDEX IF NOT EXISTS queue_by_message ON queue(message);
-- Keyed by message id first: clients make time-ordered ids (12 hex digits of ms, then random), so a
-- batch of new messages lands on the last pages of this index instead of one random page each (that
-- was about half of the store's work per message). Schema 1 had (sender_device, message_id).
${seenTableSql("seen")}
-- No index on accepted_at: it cost ~15 % of send throughput; pruning scans in bounded chunks instead.
DROP INDEX IF EXISTS seen_by_time;
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
-- Per-account quota: the bytes of an account's devices' uploads.
CREATE INDEX IF NOT EXISTS blobs_by_owner ON blobs(owner_device);
-- Retention counts from the upload, whatever the expiry says.
CREATE INDEX IF NOT EXISTS blobs_by_creation ON blobs(created_at);
-- Recipient devices that have not fetched a blob yet; when none is left it is deleted.
CREATE TABLE IF NOT EXISTS blob_pending (
  blob_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (blob_id, device_id)
) WITHOUT ROWID;
-- Devices a message referring to a blob was queued for, fetched or not: they may refer to it in turn
-- (forwarding it), as may its uploader; nobody else.
CREATE TABLE IF NOT EXISTS blob_access (
  blob_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (blob_id, device_id)
) WITHOUT ROWID;
-- Short-lived codes an existing device shows so a new one can join the account without the password.
CREATE TABLE IF NOT EXISTS device_links (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
-- Web Push: one subscription per device (endpoint and the keys pushes are encrypted to). A new table,
-- so databases from before simply gain it.
CREATE TABLE IF NOT EXISTS push_subscriptions (
  device_id TEXT PRIMARY KEY REFERENCES devices(id),
  endpoint TEXT NOT NULL,
  p256dh BLOB NOT NULL,
  auth BLOB NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
