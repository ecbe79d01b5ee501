import type { CredentialValidator } from "@sori/crypto";
import type { ResultOf } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { DeviceContext } from "./device-context.ts";

export type DirectoryUser = ResultOf<"dir.users">["users"][number];

/**
 * The server's directory of users and devices as this device has seen it: usernames (cached in
 * storage) and device signature keys, and the MLS credential check built on them.
 */
export class Directory {
  readonly #ctx: Pick<DeviceContext, "request" | "storage">;
  readonly #devices = new Map<string, { userId: string; key: Uint8Array; revoked: boolean }>();
  readonly #usernames = new Map<string, string>();

  constructor(ctx: Pick<DeviceContext, "request" | "storage">, self: { userId: string; username: string }) {
    this.#ctx = ctx;
    this.#usernames.set(self.userId, self.username);
  }

  get #storage(): ClientStorage {
    return this.#ctx.storage;
  }

  /** Checks an MLS credential against the server's device directory. */
  readonly validate: CredentialValidator = async (identity, signaturePublicKey) => {
    let entry = this.#devices.get(identity.deviceId);
    if (!entry) {
      // A failed lookup throws (crypto reports it as "internal"): it is not a rejection, and the
      // delivery that needed it is retried instead of dropped.
      const { devices } = await this.#ctx.request({ type: "dir.devices", deviceIds: [identity.deviceId] });
      for (const d of devices)
        this.#devices.set(d.deviceId, { userId: d.userId, key: d.signatureKey, revoked: d.revoked });
      entry = this.#devices.get(identity.deviceId);
    }
    return (
      entry !== undefined && entry.userId === identity.userId && bytesEqual(entry.key, signaturePublicKey)
    );
  };

  /** Looks users up by username; "unknown-user" names any that do not exist. */
  async lookupUsers(usernames: string[]): Promise<DirectoryUser[]> {
    const { users, unknown } = await this.#ctx.request({ type: "dir.users", usernames });
    if (unknown.length > 0) throw new SdkError("unknown-user", `no such user: ${unknown.join(", ")}`);
    this.#remember(users);
    return users;
  }

  /** One user by username; "unknown-user" if there is none. */
  async lookupUser(username: string): Promise<DirectoryUser> {
    const [user] = await this.lookupUsers([username]);
    if (!user) throw new SdkError("unknown-user", `no such user: ${username}`);
    return user;
  }

  /** Looks users up by id (unknown ids are left out). */
  async usersById(userIds: string[]): Promise<DirectoryUser[]> {
    const { users } = await this.#ctx.request({ type: "dir.users", userIds });
    this.#remember(users);
    return users;
  }

  /** Looks a user up by exact username (case-insensitive); undefined if there is none. */
  async findUser(username: string): Promise<{ userId: string; username: string } | undefined> {
    const { users } = await this.#ctx.request({ type: "dir.users", usernames: [username] });
    this.#remember(users);
    const u = users[0];
    return u ? { userId: u.userId, username: u.username } : undefined;
  }

  #remember(users: DirectoryUser[]): void {
    for (const u of users) {
      this.#usernames.set(u.userId, u.username);
      void putJson(this.#storage, StorageKeys.user(u.userId), { username: u.username });
      for (const d of u.devices)
        this.#devices.set(d.deviceId, { userId: u.userId, key: d.signatureKey, revoked: d.revoked });
    }
  }

  /** Whether this device already knows the user's name (no lookup needed). */
  knowsUsername(userId: string): boolean {
    return this.#usernames.has(userId);
  }

  /** A user's username: cached, or looked up; the id itself while offline. */
  async usernameOf(userId: string): Promise<string> {
    const cached =
      this.#usernames.get(userId) ??
      (await getJson<{ username: string }>(this.#storage, StorageKeys.user(userId)))?.username;
    if (cached) {
      this.#usernames.set(userId, cached);
      return cached;
    }
    try {
      await this.usersById([userId]);
    } catch {
      // Offline: show the id until the name is known.
    }
    return this.#usernames.get(userId) ?? userId;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
