import type { DeviceRecord, NewDevice, NewSession, SessionRecord, UserRecord } from "../store.ts";
import type { Row, SqliteEngine } from "./engine.ts";
import type { MembershipCache } from "./membership-cache.ts";

/**
 * Users, their devices and the devices' sessions (tables users, devices, sessions). Statements only:
 * the caller runs writes inside SqliteEngine.write. Device activation and revocation change who may
 * be in a group, so they drop the membership cache.
 */
export class Accounts {
  readonly #sql: SqliteEngine;
  readonly #membership: MembershipCache;

  constructor(sql: SqliteEngine, membership: MembershipCache) {
    this.#sql = sql;
    this.#membership = membership;
  }

  /** Adds the user; false (nothing written) if the username is taken, case-insensitively. */
  insertUser(user: UserRecord): boolean {
    const key = user.username.toLowerCase();
    if (this.#sql.get("SELECT 1 AS x FROM users WHERE username_key = ?", key)) return false;
    this.#sql.run(
      "INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
      user.userId,
      user.username,
      key,
      user.passwordHash,
      user.createdAt,
    );
    return true;
  }

  userByUsername(username: string): UserRecord | undefined {
    const row = this.#sql.get("SELECT * FROM users WHERE username_key = ?", username.toLowerCase());
    return row ? toUser(row) : undefined;
  }

  userById(userId: string): UserRecord | undefined {
    const row = this.#sql.get("SELECT * FROM users WHERE id = ?", userId);
    return row ? toUser(row) : undefined;
  }

  insertDevice(device: NewDevice & { linkedBy?: string }): void {
    this.#sql.run(
      `INSERT INTO devices (id, user_id, name, signature_key, created_at, transfer_key, link_proof, linked_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      device.deviceId,
      device.userId,
      device.name,
      device.signatureKey,
      device.createdAt,
      device.transferKey ?? null,
      device.linkProof ?? null,
      device.linkedBy ?? null,
    );
  }

  /** Devices of the user that are not revoked (approved or waiting): what the device cap counts. */
  liveDeviceCount(userId: string): number {
    return Number(
      this.#sql.get("SELECT COUNT(*) AS n FROM devices WHERE user_id = ? AND revoked_at IS NULL", userId)
        ?.n ?? 0,
    );
  }

  /** The user's approved, unrevoked devices other than `exceptDeviceId`: who hears of a sign-in. */
  approvedDevicesOf(userId: string, exceptDeviceId: string): string[] {
    return this.#sql
      .all(
        "SELECT id FROM devices WHERE user_id = ? AND id != ? AND revoked_at IS NULL AND approved_at IS NOT NULL",
        userId,
        exceptDeviceId,
      )
      .map((r) => String(r.id));
  }

  /** The user's unrevoked devices other than `keep`. */
  otherLiveDevices(userId: string, keep: string): string[] {
    return this.#sql
      .all("SELECT id FROM devices WHERE user_id = ? AND id != ? AND revoked_at IS NULL", userId, keep)
      .map((r) => String(r.id));
  }

  setAccountKey(userId: string, accountKey: Uint8Array): void {
    this.#sql.run("UPDATE users SET account_key = ? WHERE id = ?", accountKey, userId);
  }

  /** Marks a waiting device approved with its certificate (and the sealed key for it, if any). */
  approve(deviceId: string, certificate: Uint8Array, sealedKey: Uint8Array | null, now: number): boolean {
    const { changes } = this.#sql.run(
      `UPDATE devices SET approved_at = ?, certificate = ?, sealed_key = ?
       WHERE id = ? AND approved_at IS NULL AND revoked_at IS NULL`,
      now,
      certificate,
      sealedKey,
      deviceId,
    );
    return changes > 0;
  }

  setPasswordHash(userId: string, passwordHash: string): void {
    this.#sql.run("UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, userId);
  }

  /** Waiting devices created before `olderThan`. */
  stalePending(olderThan: number): string[] {
    return this.#sql
      .all(
        "SELECT id FROM devices WHERE approved_at IS NULL AND revoked_at IS NULL AND created_at < ?",
        olderThan,
      )
      .map((r) => String(r.id));
  }

  device(deviceId: string): DeviceRecord | undefined {
    const row = this.#sql.get("SELECT * FROM devices WHERE id = ?", deviceId);
    return row ? toDevice(row) : undefined;
  }

  /** Every device of the user, revoked ones included, oldest first. */
  devicesOf(userId: string): DeviceRecord[] {
    return this.#sql.all("SELECT * FROM devices WHERE user_id = ? ORDER BY created_at", userId).map(toDevice);
  }

  /**
   * The user's devices that are active (have uploaded KeyPackages) and not revoked, from the
   * membership cache (read through on a miss): every `send` asks this for each member user.
   */
  activeDevicesOf(userId: string): string[] {
    return this.#membership.activeDevices(userId, () =>
      this.#sql
        .all(
          "SELECT id FROM devices WHERE user_id = ? AND revoked_at IS NULL AND activated_at IS NOT NULL AND approved_at IS NOT NULL",
          userId,
        )
        .map((r) => String(r.id)),
    );
  }

  /** The other active devices of the device's user. */
  otherActiveDevices(deviceId: string): string[] {
    return this.#sql
      .all(
        `SELECT id FROM devices WHERE user_id = (SELECT user_id FROM devices WHERE id = ?) AND id != ?
         AND revoked_at IS NULL AND activated_at IS NOT NULL AND approved_at IS NOT NULL`,
        deviceId,
        deviceId,
      )
      .map((r) => String(r.id));
  }

  /** The user of an active, unrevoked device; undefined for any other. */
  activeDeviceUser(deviceId: string): string | undefined {
    const row = this.#sql.get(
      "SELECT user_id FROM devices WHERE id = ? AND revoked_at IS NULL AND activated_at IS NOT NULL AND approved_at IS NOT NULL",
      deviceId,
    );
    return row ? String(row.user_id) : undefined;
  }

  /** Marks an approved device active at `at` unless it already is or was revoked; whether it changed. */
  activate(deviceId: string, at: number): boolean {
    const { changes } = this.#sql.run(
      "UPDATE devices SET activated_at = ? WHERE id = ? AND activated_at IS NULL AND revoked_at IS NULL AND approved_at IS NOT NULL",
      at,
      deviceId,
    );
    if (changes > 0) this.#membership.clear();
    return changes > 0;
  }

  /** Marks a device revoked and deletes its sessions. */
  revoke(deviceId: string, now: number): void {
    this.#sql.run("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, deviceId);
    this.#membership.clear();
    this.#sql.run("DELETE FROM sessions WHERE device_id = ?", deviceId);
  }

  touch(deviceId: string, now: number): void {
    this.#sql.run("UPDATE devices SET last_seen_at = ? WHERE id = ?", now, deviceId);
  }

  insertSession(session: NewSession): void {
    this.#sql.run(
      "INSERT INTO sessions (token_hash, device_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      session.tokenHash,
      session.deviceId,
      session.createdAt,
      session.expiresAt,
    );
  }

  /** The session of an unexpired token whose device is not revoked. */
  session(tokenHash: string, now: number): SessionRecord | undefined {
    const row = this.#sql.get(
      `SELECT s.device_id, s.expires_at, d.user_id, d.approved_at FROM sessions s JOIN devices d ON d.id = s.device_id
       WHERE s.token_hash = ? AND d.revoked_at IS NULL`,
      tokenHash,
    );
    if (!row || Number(row.expires_at) <= now) return undefined;
    return {
      deviceId: String(row.device_id),
      userId: String(row.user_id),
      expiresAt: Number(row.expires_at),
      approved: row.approved_at !== null && row.approved_at !== undefined,
    };
  }

  /** Moves a session's expiry later, never earlier. */
  extendSession(tokenHash: string, expiresAt: number): void {
    this.#sql.run(
      "UPDATE sessions SET expires_at = ? WHERE token_hash = ? AND expires_at < ?",
      expiresAt,
      tokenHash,
      expiresAt,
    );
  }

  deleteSession(tokenHash: string): void {
    this.#sql.run("DELETE FROM sessions WHERE token_hash = ?", tokenHash);
  }
}

function toUser(row: Row): UserRecord {
  return {
    userId: String(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    createdAt: Number(row.created_at),
    accountKey: (row.account_key as Uint8Array | null) ?? null,
  };
}

const bytesOrNull = (v: unknown): Uint8Array | null =>
  v === null || v === undefined ? null : (v as Uint8Array);

function toDevice(row: Row): DeviceRecord {
  return {
    deviceId: String(row.id),
    userId: String(row.user_id),
    name: String(row.name),
    signatureKey: row.signature_key as Uint8Array,
    createdAt: Number(row.created_at),
    lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
    activatedAt: row.activated_at === null ? null : Number(row.activated_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    approvedAt: row.approved_at === null || row.approved_at === undefined ? null : Number(row.approved_at),
    certificate: bytesOrNull(row.certificate),
    transferKey: bytesOrNull(row.transfer_key),
    linkProof: bytesOrNull(row.link_proof),
    linkedBy: row.linked_by === null || row.linked_by === undefined ? null : String(row.linked_by),
    sealedKey: bytesOrNull(row.sealed_key),
  };
}
