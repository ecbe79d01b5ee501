import type { NewDeviceLink } from "../store.ts";
import type { SqliteEngine } from "./engine.ts";

/** Device-link codes, by hash (table device_links). Statements only, run inside a write. */
export class DeviceLinks {
  readonly #sql: SqliteEngine;

  constructor(sql: SqliteEngine) {
    this.#sql = sql;
  }

  /** Stores a code, dropping expired ones on the way. */
  create(link: NewDeviceLink): void {
    this.#sql.run("DELETE FROM device_links WHERE expires_at <= ?", link.createdAt);
    this.#sql.run(
      "INSERT INTO device_links (code_hash, user_id, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      link.codeHash,
      link.userId,
      link.deviceId,
      link.createdAt,
      link.expiresAt,
    );
  }

  /**
   * Uses a code up: the account it links to and the device that showed it, if it was valid (unexpired,
   * its device not revoked).
   */
  take(codeHash: string, now: number): { userId: string; deviceId: string } | undefined {
    const link = this.#sql.get(
      `SELECT l.user_id, l.device_id FROM device_links l JOIN devices d ON d.id = l.device_id
       WHERE l.code_hash = ? AND l.expires_at > ? AND d.revoked_at IS NULL`,
      codeHash,
      now,
    );
    // Single use: a code is gone once tried with success.
    this.#sql.run("DELETE FROM device_links WHERE code_hash = ?", codeHash);
    return link ? { userId: String(link.user_id), deviceId: String(link.device_id) } : undefined;
  }

  deleteOf(deviceId: string): void {
    this.#sql.run("DELETE FROM device_links WHERE device_id = ?", deviceId);
  }
}
