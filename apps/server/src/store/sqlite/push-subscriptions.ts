import type { PushSubscriptionRecord } from "../store.ts";
import type { Row, SqliteEngine } from "./engine.ts";

/** Devices' Web Push subscriptions (table push_subscriptions). Statements only, writes inside a write. */
export class PushSubscriptions {
  readonly #sql: SqliteEngine;

  constructor(sql: SqliteEngine) {
    this.#sql = sql;
  }

  /** Replaces the device's subscription (the caller checked that the device is live). */
  put(s: Omit<PushSubscriptionRecord, "userId">): void {
    this.#sql.run(
      `INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh,
         auth = excluded.auth, created_at = excluded.created_at`,
      s.deviceId,
      s.endpoint,
      s.p256dh,
      s.auth,
      s.createdAt,
    );
  }

  /** The subscription of a device, with its account. */
  get(deviceId: string): PushSubscriptionRecord | undefined {
    const row = this.#sql.get(
      `SELECT p.*, d.user_id FROM push_subscriptions p JOIN devices d ON d.id = p.device_id
       WHERE p.device_id = ?`,
      deviceId,
    );
    return row ? toSubscription(row) : undefined;
  }

  /** Removes the device's subscription (only if it is `endpoint`, when given); whether there was one. */
  delete(deviceId: string, endpoint?: string): boolean {
    const { changes } =
      endpoint === undefined
        ? this.#sql.run("DELETE FROM push_subscriptions WHERE device_id = ?", deviceId)
        : this.#sql.run(
            "DELETE FROM push_subscriptions WHERE device_id = ? AND endpoint = ?",
            deviceId,
            endpoint,
          );
    return changes > 0;
  }
}

function toSubscription(row: Row): PushSubscriptionRecord {
  return {
    deviceId: String(row.device_id),
    userId: String(row.user_id),
    endpoint: String(row.endpoint),
    p256dh: row.p256dh as Uint8Array,
    auth: row.auth as Uint8Array,
    createdAt: Number(row.created_at),
  };
}
