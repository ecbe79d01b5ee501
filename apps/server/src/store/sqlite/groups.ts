import type { GroupState } from "../delivery-rules.ts";
import type { GroupRecord } from "../store.ts";
import { StoreError } from "../store-error.ts";
import type { Row, SqliteEngine } from "./engine.ts";
import type { MembershipCache } from "./membership-cache.ts";

/**
 * MLS groups and their member devices (tables groups, group_members). Statements only, run inside a
 * write; every change drops the group's entry in the membership cache.
 */
export class Groups {
  readonly #sql: SqliteEngine;
  readonly #membership: MembershipCache;

  constructor(sql: SqliteEngine, membership: MembershipCache) {
    this.#sql = sql;
    this.#membership = membership;
  }

  /** The group's current epoch, or undefined if there is no such group. */
  epoch(groupId: string): number | undefined {
    const row = this.#sql.get("SELECT epoch FROM groups WHERE id = ?", groupId);
    return row ? Number(row.epoch) : undefined;
  }

  insert(groupId: string, epoch: number, createdAt: number): void {
    this.#sql.run("INSERT INTO groups (id, epoch, created_at) VALUES (?, ?, ?)", groupId, epoch, createdAt);
    this.#membership.dropGroup(groupId);
  }

  setEpoch(groupId: string, epoch: number): void {
    this.#sql.run("UPDATE groups SET epoch = ? WHERE id = ?", epoch, groupId);
    this.#membership.dropGroup(groupId);
  }

  /** Adds a device (once); StoreError "unknown-device" if there is no such device. */
  addMember(groupId: string, deviceId: string): void {
    const device = this.#sql.get("SELECT revoked_at FROM devices WHERE id = ?", deviceId);
    if (!device) throw new StoreError("unknown-device", "a member device does not exist");
    this.#sql.run(
      "INSERT OR IGNORE INTO group_members (group_id, device_id) VALUES (?, ?)",
      groupId,
      deviceId,
    );
    this.#membership.dropGroup(groupId);
  }

  removeMember(groupId: string, deviceId: string): void {
    this.#sql.run("DELETE FROM group_members WHERE group_id = ? AND device_id = ?", groupId, deviceId);
    this.#membership.dropGroup(groupId);
  }

  /** The group's member devices, with their users and whether each is revoked. */
  members(groupId: string): GroupRecord["members"] {
    return this.#sql
      .all(
        `SELECT gm.device_id, d.user_id, d.revoked_at FROM group_members gm JOIN devices d ON d.id = gm.device_id
         WHERE gm.group_id = ?`,
        groupId,
      )
      .map(toMember);
  }

  /** What `send` checks, from the membership cache (read through on a miss). */
  state(groupId: string): GroupState | undefined {
    return this.#membership.group(groupId, () => this.#load(groupId));
  }

  /**
   * A group's epoch and members in one query: with many groups most sends miss the membership cache,
   * and one statement instead of two took about 20 % off that miss (docs/BENCHMARKS.md). A group
   * without members reads as absent, which `send` treats alike (the sender is not a member).
   */
  #load(groupId: string): GroupState | undefined {
    const rows = this.#sql.all(
      `SELECT g.epoch, gm.device_id, d.user_id, d.revoked_at FROM groups g
       JOIN group_members gm ON gm.group_id = g.id JOIN devices d ON d.id = gm.device_id WHERE g.id = ?`,
      groupId,
    );
    if (rows.length === 0) return undefined;
    return { epoch: Number(rows[0]!.epoch), members: rows.map(toMember) };
  }

  /** The groups a device is a member of, oldest first. */
  ofDevice(deviceId: string): { groupId: string; epoch: number }[] {
    return this.#sql
      .all(
        "SELECT g.id, g.epoch FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.device_id = ? ORDER BY g.created_at",
        deviceId,
      )
      .map((r) => ({ groupId: String(r.id), epoch: Number(r.epoch) }));
  }
}

/** A group member from a row of group_members joined with devices. */
function toMember(row: Row): GroupRecord["members"][number] {
  return { deviceId: String(row.device_id), userId: String(row.user_id), revoked: row.revoked_at !== null };
}
