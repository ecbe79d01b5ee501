import { toBase64 } from "@sori/protocol";
import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";

/** What this device knows of a contact's account key. */
export type TrustRecord = {
  /** The account key this device accepted (first seen, or acknowledged after a change), base64. */
  accountKey: string;
  /** The person compared the safety number made from this key (in person or by QR). */
  verified: boolean;
  /** When the key was accepted (ms). */
  since: number;
  /** A different key seen since, not acknowledged yet: nothing is sent to this user until it is. */
  changed?: { accountKey: string; at: number; wasVerified: boolean };
};

/** The result of meeting an account key for a user. */
export type Observation = "trusted" | "first-seen" | "changed" | "change-pending";

/**
 * The account keys of the people this device talks to, pinned on first sight (as Signal does): the
 * server's directory only proposes keys; a different key later is a change the person must see and
 * acknowledge before anything is sent to that user again, and a verification binds to the key.
 */
export class TrustStore {
  readonly #storage: ClientStorage;
  readonly #cache = new Map<string, TrustRecord | null>();

  constructor(storage: ClientStorage) {
    this.#storage = storage;
  }

  async get(userId: string): Promise<TrustRecord | undefined> {
    if (this.#cache.has(userId)) return this.#cache.get(userId) ?? undefined;
    const rec = await getJson<TrustRecord>(this.#storage, StorageKeys.trust(userId));
    this.#cache.set(userId, rec ?? null);
    return rec;
  }

  async #put(userId: string, rec: TrustRecord): Promise<void> {
    await putJson(this.#storage, StorageKeys.trust(userId), rec);
    this.#cache.set(userId, rec);
  }

  /**
   * Meets `accountKey` for `userId` (from the directory or a signed credential): pins it if it is the
   * first, and records a change if it differs from the pinned one.
   */
  async observe(userId: string, accountKey: Uint8Array): Promise<Observation> {
    const key = toBase64(accountKey);
    const rec = await this.get(userId);
    if (!rec) {
      await this.#put(userId, { accountKey: key, verified: false, since: Date.now() });
      return "first-seen";
    }
    if (rec.accountKey === key) return "trusted";
    if (rec.changed?.accountKey === key) return "change-pending";
    await this.#put(userId, {
      ...rec,
      changed: { accountKey: key, at: Date.now(), wasVerified: rec.verified },
    });
    return "changed";
  }

  /** Whether `accountKey` is the one accepted for the user (a pending change does not count). */
  async trusts(userId: string, accountKey: Uint8Array): Promise<boolean> {
    const rec = await this.get(userId);
    return rec?.accountKey === toBase64(accountKey);
  }

  /** Users among `userIds` whose key changed and who are not acknowledged yet. */
  async pendingChanges(userIds: Iterable<string>): Promise<string[]> {
    const out: string[] = [];
    for (const u of userIds) if ((await this.get(u))?.changed) out.push(u);
    return out;
  }

  /** The person saw the change: the new key becomes the accepted one (unverified). */
  async acknowledge(userId: string): Promise<boolean> {
    const rec = await this.get(userId);
    if (!rec?.changed) return false;
    await this.#put(userId, { accountKey: rec.changed.accountKey, verified: false, since: Date.now() });
    return true;
  }

  /** Marks the accepted key verified (or not). */
  async setVerified(userId: string, verified: boolean): Promise<void> {
    const rec = await this.get(userId);
    if (rec) await this.#put(userId, { ...rec, verified });
  }
}
