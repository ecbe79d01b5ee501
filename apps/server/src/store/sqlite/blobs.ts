import type { BlobRecord, NewBlob } from "../store.ts";
import type { SqliteEngine } from "./engine.ts";

/**
 * Attachments' bookkeeping (tables blobs, blob_pending, blob_access): size and bytes received, whether
 * a message refers to it, when it expires, which recipient devices must still fetch it and which may
 * refer to it. The bytes are files (blob-files.ts). Statements only, run inside a write.
 */
export class Blobs {
  readonly #sql: SqliteEngine;

  constructor(sql: SqliteEngine) {
    this.#sql = sql;
  }

  create(blob: NewBlob): void {
    this.#sql.run(
      "INSERT INTO blobs (id, owner_device, size, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      blob.blobId,
      blob.ownerDevice,
      blob.size,
      blob.createdAt,
      blob.expiresAt,
    );
  }

  /** The bytes of every upload of the account `deviceId` belongs to (its full size, received or not). */
  accountBytes(deviceId: string): number {
    const r = this.#sql.get(
      `SELECT COALESCE(SUM(b.size), 0) AS n FROM devices d JOIN blobs b ON b.owner_device = d.id
       WHERE d.user_id = (SELECT user_id FROM devices WHERE id = ?)`,
      deviceId,
    );
    return Number(r?.n ?? 0);
  }

  /** The bytes of every upload on the server. */
  totalBytes(): number {
    return Number(this.#sql.get("SELECT COALESCE(SUM(size), 0) AS n FROM blobs")?.n ?? 0);
  }

  get(blobId: string): BlobRecord | undefined {
    const r = this.#sql.get("SELECT * FROM blobs WHERE id = ?", blobId);
    return (
      r && {
        blobId,
        ownerDevice: String(r.owner_device),
        size: Number(r.size),
        received: Number(r.received),
        referenced: Number(r.referenced) === 1,
        createdAt: Number(r.created_at),
        expiresAt: Number(r.expires_at),
      }
    );
  }

  /** Uploads of a device no message refers to yet and that have not expired. */
  unsent(deviceId: string, now: number): number {
    const r = this.#sql.get(
      "SELECT COUNT(*) AS n FROM blobs WHERE owner_device = ? AND referenced = 0 AND expires_at > ?",
      deviceId,
      now,
    );
    return Number(r?.n ?? 0);
  }

  setReceived(blobId: string, received: number): void {
    this.#sql.run("UPDATE blobs SET received = ? WHERE id = ?", received, blobId);
  }

  /** Whether every one of these blobs exists and is completely uploaded. */
  allComplete(blobIds: string[]): boolean {
    for (const id of blobIds) {
      const b = this.#sql.get("SELECT size, received FROM blobs WHERE id = ?", id);
      if (!b || Number(b.received) !== Number(b.size)) return false;
    }
    return true;
  }

  /**
   * Whether `deviceId` may name every one of these blobs in a message: it uploaded it, or a message
   * naming it was queued for it. blob_pending covers references made before blob_access existed.
   */
  sendableBy(blobIds: string[], deviceId: string): boolean {
    return blobIds.every(
      (id) =>
        this.#sql.get(
          `SELECT 1 AS x FROM blobs WHERE id = ? AND owner_device = ?
           UNION ALL SELECT 1 FROM blob_access WHERE blob_id = ? AND device_id = ?
           UNION ALL SELECT 1 FROM blob_pending WHERE blob_id = ? AND device_id = ? LIMIT 1`,
          id,
          deviceId,
          id,
          deviceId,
          id,
          deviceId,
        ) !== undefined,
    );
  }

  /** A message refers to these blobs: its recipients must fetch them; expiry follows the message. */
  reference(blobIds: string[], recipients: string[], expiresAt: number): void {
    for (const id of blobIds) {
      for (const d of recipients) {
        this.#sql.run("INSERT OR IGNORE INTO blob_pending (blob_id, device_id) VALUES (?, ?)", id, d);
        this.#sql.run("INSERT OR IGNORE INTO blob_access (blob_id, device_id) VALUES (?, ?)", id, d);
      }
      // The first message sets its expiry (a disappearing one's, or retention); a forward may extend it.
      this.#sql.run(
        `UPDATE blobs SET expires_at = CASE WHEN referenced = 0 THEN ? ELSE MAX(expires_at, ?) END, referenced = 1
         WHERE id = ?`,
        expiresAt,
        expiresAt,
        id,
      );
    }
  }

  /** A recipient device has the whole blob; once all have, it expires at `now`. */
  fetched(blobId: string, deviceId: string, now: number): void {
    const { changes } = this.#sql.run(
      "DELETE FROM blob_pending WHERE blob_id = ? AND device_id = ?",
      blobId,
      deviceId,
    );
    if (changes === 0) return;
    // Every recipient has it: nothing references it any more.
    if (!this.#anyPending(blobId))
      this.#sql.run("UPDATE blobs SET expires_at = ? WHERE id = ? AND referenced = 1", now, blobId);
  }

  /** A revoked device will fetch nothing: attachments only it still lacked can go at `now`. */
  forgetDevice(deviceId: string, now: number): void {
    const waiting = this.#sql.all("SELECT blob_id FROM blob_pending WHERE device_id = ?", deviceId);
    this.#sql.run("DELETE FROM blob_pending WHERE device_id = ?", deviceId);
    this.#sql.run("DELETE FROM blob_access WHERE device_id = ?", deviceId);
    for (const r of waiting) {
      if (!this.#anyPending(String(r.blob_id)))
        this.#sql.run(
          "UPDATE blobs SET expires_at = MIN(expires_at, ?) WHERE id = ?",
          now,
          String(r.blob_id),
        );
    }
  }

  #anyPending(blobId: string): boolean {
    return this.#sql.get("SELECT 1 AS x FROM blob_pending WHERE blob_id = ? LIMIT 1", blobId) !== undefined;
  }

  /** Expired at `now`, or uploaded before `createdBefore` (retention holds whatever the expiry says). */
  expired(now: number, createdBefore: number, limit: number): string[] {
    return this.#sql
      .all(
        `SELECT id FROM blobs WHERE expires_at <= ? UNION SELECT id FROM blobs WHERE created_at < ? LIMIT ?`,
        now,
        createdBefore,
        limit,
      )
      .map((r) => String(r.id));
  }

  deleteRecords(blobIds: string[]): void {
    for (const id of blobIds) {
      this.#sql.run("DELETE FROM blob_pending WHERE blob_id = ?", id);
      this.#sql.run("DELETE FROM blob_access WHERE blob_id = ?", id);
      this.#sql.run("DELETE FROM blobs WHERE id = ?", id);
    }
  }
}
