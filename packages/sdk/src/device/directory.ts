import { type CertifiedMember, type CredentialValidator, keyPackageIdentity } from "@sori/crypto";
import { type ResultOf, splitBridgedUsername } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { DeviceContext } from "./device-context.ts";
import type { TrustStore } from "./trust-store.ts";

export type DirectoryUser = ResultOf<"dir.users">["users"][number];
type ClaimedKeyPackage = ResultOf<"kp.claim">["keyPackages"][number];

/** Why a device offered by the server was not taken. */
type RefusalReason =
  /** Its certificate does not verify: no account key signed this device in. */
  | "uncertified"
  /** Signed by a key that is not the one this device knows for the user (the server's own, say). */
  | "untrusted-key"
  /** A KeyPackage for a device nobody asked for, or for another user than the device's. */
  | "unrequested"
  | "malformed";

/** A user as a look-up by username finds them. */
export type FoundUser = { userId: string; username: string; gateway?: true; bridged?: string };

export type Refusal = { userId: string; deviceId: string; reason: RefusalReason };

export type DirectoryHooks = {
  /** The account key of a contact changed (reported once per new key). */
  identityChanged(userId: string): Promise<void>;
};

/** How long a bridged identity's gateway gets to make it before a look-up gives up. */
const BRIDGE_RESOLVE_MS = 15_000;
/** How often the directory is asked again meanwhile (each ask counts against the look-up budget). */
const BRIDGE_POLL_MS = [250, 500, 1000, 1000, 2000];

/** How long the directory's word on whether an account is a gateway is taken without asking again. */
const GATEWAY_TTL_MS = 60_000;

/**
 * The server's directory of users and devices as this device has seen it — a hint, never the
 * authority: whether a device belongs to a user is decided by its certificate and the account key this
 * device pinned for the user (trust-store.ts). Usernames are cached in storage.
 */
export class Directory {
  readonly #ctx: Pick<DeviceContext, "request" | "storage" | "account" | "warn">;
  readonly #trust: TrustStore;
  readonly #hooks: DirectoryHooks;
  readonly #self: { userId: string; username: string };
  readonly #usernames = new Map<string, string>();

  constructor(
    ctx: Pick<DeviceContext, "request" | "storage" | "account" | "warn">,
    self: { userId: string; username: string },
    trust: TrustStore,
    hooks: DirectoryHooks,
  ) {
    this.#ctx = ctx;
    this.#self = self;
    this.#trust = trust;
    this.#hooks = hooks;
    this.#usernames.set(self.userId, self.username);
  }

  /**
   * Whether `accountKey` is the account key of `userId` as far as this device knows. Our own account's
   * key is known exactly; a contact's is pinned on first sight. `strict` (adding a device, which lets
   * it read what follows) takes only the pinned key: a device signed by any other key is refused,
   * whether the key is a change not yet acknowledged or one the server made up. Otherwise (following a
   * group others changed: a member accepted that device) a new key is accepted but recorded as a
   * change, so that the person is told and sending waits until they acknowledge it.
   */
  async checkAccountKey(userId: string, accountKey: Uint8Array, strict: boolean): Promise<boolean> {
    if (userId === this.#self.userId) {
      const own = this.#ctx.account.accountKey;
      return own !== undefined && bytesEqual(own, accountKey);
    }
    if (!(await this.#trust.get(userId))) {
      await this.#trust.observe(userId, accountKey);
      return true;
    }
    if (await this.#trust.trusts(userId, accountKey)) return true;
    if (strict) return false;
    if ((await this.#trust.observe(userId, accountKey)) === "changed")
      await this.#hooks.identityChanged(userId);
    return true;
  }

  /** The directory names an account key for a contact: the first is pinned, a different one is a change. */
  async #proposed(userId: string, accountKey: Uint8Array): Promise<void> {
    if ((await this.#trust.observe(userId, accountKey)) === "changed")
      await this.#hooks.identityChanged(userId);
  }

  /** The credential check for devices this device adds (KeyPackages it claimed). */
  readonly validateForAdd: CredentialValidator = (member: CertifiedMember) =>
    this.checkAccountKey(member.userId, member.accountKey, true);

  /** The credential check for trees and commits made by others (Welcomes, commits). */
  readonly validateIncoming: CredentialValidator = (member: CertifiedMember) =>
    this.checkAccountKey(member.userId, member.accountKey, false);

  /**
   * Claims one KeyPackage per device of `expected` (device id → user id) and keeps only what was
   * asked for: one per requested device, of the right user, certified by the account key this device
   * knows for that user. Everything else is returned as refused, to be reported.
   */
  async claimKeyPackages(
    expected: Map<string, string>,
  ): Promise<{ keyPackages: ClaimedKeyPackage[]; refused: Refusal[] }> {
    if (expected.size === 0) return { keyPackages: [], refused: [] };
    const { keyPackages } = await this.#ctx.request({ type: "kp.claim", deviceIds: [...expected.keys()] });
    const taken = new Set<string>();
    const accepted: ClaimedKeyPackage[] = [];
    const refused: Refusal[] = [];
    for (const k of keyPackages) {
      const refuse = (reason: RefusalReason): void => {
        refused.push({ userId: expected.get(k.deviceId) ?? k.userId, deviceId: k.deviceId, reason });
      };
      let info: ReturnType<typeof keyPackageIdentity>;
      try {
        info = keyPackageIdentity(k.keyPackage);
      } catch {
        refuse("malformed");
        continue;
      }
      const user = expected.get(k.deviceId);
      if (
        user === undefined ||
        taken.has(k.deviceId) ||
        k.userId !== user ||
        info.identity.userId !== user ||
        info.identity.deviceId !== k.deviceId
      ) {
        refuse("unrequested");
        continue;
      }
      if (!info.certified) {
        refuse("uncertified");
        continue;
      }
      if (!(await this.checkAccountKey(user, info.identity.accountKey, true))) {
        refuse("untrusted-key");
        continue;
      }
      taken.add(k.deviceId);
      accepted.push(k);
    }
    return { keyPackages: accepted, refused };
  }

  /**
   * Looks users up by username; "unknown-user" names any that do not exist. A bridged identity
   * (`xmpp:juliet@example.org`) that does not exist yet is asked of its gateway first, which makes it
   * within a few seconds if it can reach that address.
   */
  async lookupUsers(usernames: string[]): Promise<DirectoryUser[]> {
    const { users, unknown } = await this.#ctx.request({ type: "dir.users", usernames });
    const bridged = unknown.filter((u) => splitBridgedUsername(u) !== undefined);
    const missing = unknown.filter((u) => splitBridgedUsername(u) === undefined);
    if (missing.length > 0) throw new SdkError("unknown-user", `no such user: ${missing.join(", ")}`);
    for (const username of bridged) users.push(await this.#resolveBridged(username));
    await this.#remember(users);
    return users;
  }

  /** Has the gateway of a bridged username make it, and waits (bounded) until it has a device. */
  async #resolveBridged(username: string): Promise<DirectoryUser> {
    const { status } = await this.#ctx.request({ type: "bridge.resolve", username });
    const deadline = Date.now() + BRIDGE_RESOLVE_MS;
    for (let i = 0; ; i++) {
      const { users } = await this.#ctx.request({ type: "dir.users", usernames: [username] });
      const user = users[0];
      if (user && user.devices.length > 0) return user;
      const wait = BRIDGE_POLL_MS[Math.min(i, BRIDGE_POLL_MS.length - 1)]!;
      if (Date.now() + wait > deadline || (status === "exists" && user === undefined))
        throw new SdkError(
          "unknown-user",
          user
            ? `${username} has no device that can be added right now (its gateway may be down)`
            : `the gateway did not bring ${username} onto Sori in time (it may be down, or cannot reach that address)`,
        );
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
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
    await this.#remember(users);
    return users;
  }

  /**
   * Looks a user up by exact username (case-insensitive); undefined if there is none. `gateway`: the
   * operator runs the account as a gateway; `bridged`: a person on another network (its namespace).
   */
  async findUser(username: string): Promise<FoundUser | undefined> {
    const { users } = await this.#ctx.request({ type: "dir.users", usernames: [username] });
    await this.#remember(users);
    const u = users[0];
    return u
      ? {
          userId: u.userId,
          username: u.username,
          ...(u.gateway ? { gateway: true } : {}),
          ...(u.bridged ? { bridged: u.bridged } : {}),
        }
      : undefined;
  }

  /** Whether accounts are gateways, as the directory said within the last minute. */
  readonly #gateways = new Map<string, { value: boolean; until: number }>();

  /**
   * Whether the operator runs this account as a gateway to another network (the directory says so,
   * asked afresh; offline, what it said last). Only a gateway's calls may name a foreign party.
   */
  async isGateway(userId: string): Promise<boolean> {
    // Asked for every bridged ring: a gateway taking many calls must not spend its look-up budget.
    const known = this.#gateways.get(userId);
    if (known && known.until > Date.now()) return known.value;
    try {
      const [u] = await this.usersById([userId]);
      const value = u?.gateway === true;
      this.#gateways.set(userId, { value, until: Date.now() + GATEWAY_TTL_MS });
      return value;
    } catch {
      const stored = await getJson<{ gateway?: boolean }>(this.#ctx.storage, StorageKeys.user(userId));
      return stored?.gateway === true;
    }
  }

  async #remember(users: DirectoryUser[]): Promise<void> {
    for (const u of users) {
      this.#usernames.set(u.userId, u.username);
      void putJson(this.#ctx.storage, StorageKeys.user(u.userId), {
        username: u.username,
        ...(u.gateway ? { gateway: true } : {}),
      });
      // The directory's key is a proposal: pinned if it is the first seen, a change if it differs.
      if (u.accountKey && u.userId !== this.#self.userId) await this.#proposed(u.userId, u.accountKey);
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
      (await getJson<{ username: string }>(this.#ctx.storage, StorageKeys.user(userId)))?.username;
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
