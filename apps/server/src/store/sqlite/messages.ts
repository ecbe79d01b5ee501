import type { DeliveryKind } from "@sori/protocol";
import { queuedDelivery } from "../queued-delivery.ts";
import type { Enqueued, OutgoingMessage, QueuedDelivery } from "../store.ts";
import type { SqliteEngine } from "./engine.ts";

/**
 * Messages, the per-device queues that reference them, and the `seen` index of accepted message ids
 * (tables messages, queue, seen). A message is stored once with a count of recipients still to
 * acknowledge it, and goes with its last queue entry. Statements only, run inside a write.
 */
export class Messages {
  readonly #sql: SqliteEngine;

  constructor(sql: SqliteEngine) {
    this.#sql = sql;
  }

  /** The earlier acceptance of this message id from this device, if any (a resend). */
  seen(senderDeviceId: string, messageId: string): { acceptedAt: number; epoch: number | null } | undefined {
    const row = this.#sql.get(
      "SELECT accepted_at, epoch FROM seen WHERE message_id = ? AND sender_device = ?",
      messageId,
      senderDeviceId,
    );
    if (!row) return undefined;
    return { acceptedAt: Number(row.accepted_at), epoch: row.epoch === null ? null : Number(row.epoch) };
  }

  markSeen(senderDeviceId: string, messageId: string, at: number, epoch: number): void {
    this.#sql.run(
      "INSERT INTO seen (sender_device, message_id, accepted_at, epoch) VALUES (?, ?, ?, ?)",
      senderDeviceId,
      messageId,
      at,
      epoch,
    );
  }

  /** Stores the message once and queues it for each recipient; the new entries, for the live push. */
  enqueue(m: OutgoingMessage): Enqueued {
    const { lastId: rowId } = this.#sql.run(
      `INSERT INTO messages (kind, group_id, message_id, sender_user, sender_device, epoch, data, sent_at, remaining, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.kind,
      m.groupId,
      m.messageId,
      m.senderUserId,
      m.senderDeviceId,
      m.epoch,
      m.data,
      m.sentAt,
      m.recipients.length,
      m.expiresAt ?? null,
    );
    return m.recipients.map((deviceId) => {
      const { lastId: seq } = this.#sql.run(
        "INSERT INTO queue (device_id, message) VALUES (?, ?)",
        deviceId,
        rowId,
      );
      return { deviceId, delivery: queuedDelivery(m, seq) };
    });
  }

  /** A device's queue after `afterSeq`, oldest first; disappearing messages past their time are hidden. */
  pending(deviceId: string, afterSeq: number, limit: number, now: number): QueuedDelivery[] {
    const rows = this.#sql.all(
      `SELECT q.seq, m.kind, m.group_id, m.message_id, m.sender_user, m.sender_device, m.epoch, m.data, m.sent_at
       FROM queue q JOIN messages m ON m.id = q.message
       WHERE q.device_id = ? AND q.seq > ? AND (m.expires_at IS NULL OR m.expires_at > ?) ORDER BY q.seq LIMIT ?`,
      deviceId,
      afterSeq,
      now,
      limit,
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      kind: String(r.kind) as DeliveryKind,
      groupId: r.group_id === null ? null : String(r.group_id),
      messageId: String(r.message_id),
      senderUserId: String(r.sender_user),
      senderDeviceId: String(r.sender_device),
      epoch: r.epoch === null ? null : Number(r.epoch),
      data: (r.data as Uint8Array | null) ?? null,
      sentAt: Number(r.sent_at),
    }));
  }

  /** Removes a device's queue entries up to `upTo` (and messages nobody else still needs); how many. */
  ack(deviceId: string, upTo: number): number {
    const rows = this.#sql.all(
      "DELETE FROM queue WHERE device_id = ? AND seq <= ? RETURNING message",
      deviceId,
      upTo,
    );
    for (const r of rows) {
      const id = Number(r.message);
      // Most messages have one recipient left (always in 1:1 groups): one statement deletes them.
      if (this.#sql.run("DELETE FROM messages WHERE id = ? AND remaining <= 1", id).changes === 0)
        this.#sql.run("UPDATE messages SET remaining = remaining - 1 WHERE id = ?", id);
    }
    return rows.length;
  }

  /** Row ids of up to `limit` disappearing messages due at `now`. */
  dueToExpire(now: number, limit: number): number[] {
    return this.#sql
      .all("SELECT id FROM messages WHERE expires_at <= ? LIMIT ?", now, limit)
      .map((r) => Number(r.id));
  }

  /** Row ids of up to `limit` messages accepted before `olderThan`. */
  sentBefore(olderThan: number, limit: number): number[] {
    return this.#sql
      .all("SELECT id FROM messages WHERE sent_at < ? LIMIT ?", olderThan, limit)
      .map((r) => Number(r.id));
  }

  /** Deletes messages and their queue entries; how many messages. */
  delete(ids: number[]): number {
    let n = 0;
    for (const id of ids) {
      this.#sql.run("DELETE FROM queue WHERE message = ?", id);
      n += this.#sql.run("DELETE FROM messages WHERE id = ?", id).changes;
    }
    return n;
  }

  /** Forgets up to `limit` message ids accepted before `olderThan`; how many. */
  pruneSeen(olderThan: number, limit: number): number {
    return this.#sql.run(
      `DELETE FROM seen WHERE (message_id, sender_device) IN
       (SELECT message_id, sender_device FROM seen WHERE accepted_at < ? LIMIT ?)`,
      olderThan,
      limit,
    ).changes;
  }

  /** Queue entries over all devices. */
  queuedEntries(): number {
    return Number(this.#sql.get("SELECT count(*) AS n FROM queue")?.n);
  }
}
