import type { GroupState } from "../delivery-rules.ts";

/** Entries kept at most per map; past it the map starts over (the database stays the truth). */
const MAX_ENTRIES = 100_000;

/**
 * Group membership and each user's active devices, read on every `send` but changed rarely (group
 * commits, device activation and revocation). The store is the only writer of the database, so it
 * can keep this copy exact: every write to groups, group_members or devices drops the entries it
 * touches, and a rolled-back write or failed commit drops everything.
 */
export class MembershipCache {
  readonly #groups = new Map<string, GroupState>();
  readonly #activeDevices = new Map<string, string[]>();

  group(groupId: string, load: () => GroupState | undefined): GroupState | undefined {
    const hit = this.#groups.get(groupId);
    if (hit) return hit;
    const loaded = load();
    if (loaded) remember(this.#groups, groupId, loaded);
    return loaded;
  }

  activeDevices(userId: string, load: () => string[]): string[] {
    const hit = this.#activeDevices.get(userId);
    if (hit) return hit;
    const loaded = load();
    remember(this.#activeDevices, userId, loaded);
    return loaded;
  }

  dropGroup(groupId: string): void {
    this.#groups.delete(groupId);
  }

  clear(): void {
    this.#groups.clear();
    this.#activeDevices.clear();
  }
}

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, value);
}
