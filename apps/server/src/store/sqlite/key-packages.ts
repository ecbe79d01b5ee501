import { StoreError } from "../store-error.ts";
import type { SqliteEngine } from "./engine.ts";

/**
 * Each device's KeyPackages (table key_packages): one-time ones, consumed by claims, and one
 * last-resort package, handed out without being consumed. Statements only, run inside a write.
 */
export class KeyPackages {
  readonly #sql: SqliteEngine;

  constructor(sql: SqliteEngine) {
    this.#sql = sql;
  }

  /**
   * Stores one-time KeyPackages. A resent upload repeats packages already stored: only new ones are
   * added. More than `maxOneTime` held at once fails with StoreError "limit", nothing added.
   */
  addOneTime(deviceId: string, keyPackages: Uint8Array[], maxOneTime: number): void {
    const fresh = keyPackages.filter(
      (kp) =>
        !this.#sql.get("SELECT 1 AS x FROM key_packages WHERE device_id = ? AND data = ?", deviceId, kp),
    );
    // Checked inside the transaction: concurrent uploads cannot pass the cap together.
    const held = this.countOneTime(deviceId);
    if (held + fresh.length > maxOneTime) {
      throw new StoreError(
        "limit",
        `a device may keep at most ${maxOneTime} KeyPackages on the server (it has ${held})`,
        { limit: maxOneTime },
      );
    }
    for (const kp of fresh)
      this.#sql.run("INSERT INTO key_packages (device_id, data) VALUES (?, ?)", deviceId, kp);
  }

  /** Replaces the device's last-resort KeyPackage. */
  setLastResort(deviceId: string, lastResort: Uint8Array): void {
    this.#sql.run("DELETE FROM key_packages WHERE device_id = ? AND last_resort = 1", deviceId);
    this.#sql.run(
      "INSERT OR IGNORE INTO key_packages (device_id, data, last_resort) VALUES (?, ?, 1)",
      deviceId,
      lastResort,
    );
  }

  countOneTime(deviceId: string): number {
    return Number(
      this.#sql.get(
        "SELECT count(*) AS n FROM key_packages WHERE device_id = ? AND last_resort = 0",
        deviceId,
      )?.n,
    );
  }

  hasLastResort(deviceId: string): boolean {
    return (
      this.#sql.get("SELECT 1 AS x FROM key_packages WHERE device_id = ? AND last_resort = 1", deviceId) !==
      undefined
    );
  }

  /**
   * Takes one KeyPackage of the device: a one-time one first (consumed), else the last-resort one;
   * with `lastResortOnly` the last-resort one (kept), for a claimer past its budget for this device.
   */
  take(deviceId: string, lastResortOnly = false): Uint8Array | undefined {
    const kp = lastResortOnly
      ? this.#sql.get(
          "SELECT id, data, last_resort FROM key_packages WHERE device_id = ? AND last_resort = 1",
          deviceId,
        )
      : this.#sql.get(
          "SELECT id, data, last_resort FROM key_packages WHERE device_id = ? ORDER BY last_resort, id LIMIT 1",
          deviceId,
        );
    if (!kp) return undefined;
    if (Number(kp.last_resort) === 0) this.#sql.run("DELETE FROM key_packages WHERE id = ?", Number(kp.id));
    return kp.data as Uint8Array;
  }

  deleteAllOf(deviceId: string): void {
    this.#sql.run("DELETE FROM key_packages WHERE device_id = ?", deviceId);
  }
}
