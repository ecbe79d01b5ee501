import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ProtocolError, toBase64Url } from "@sori/protocol";
import type { NewSession, Store } from "./store/store.ts";

const DAY_MS = 86_400_000;

/** The authenticated device a request comes from. */
export type Caller = {
  userId: string;
  deviceId: string;
  username: string;
  /** The remote address the request came from, for per-address limits (absent in unit tests). */
  address?: string;
  /**
   * The account signed this device in. False while it waits for approval; the Delivery Service then
   * re-reads it (approval can come while the device is connected) and sets it once true.
   */
  approved: boolean;
};

/** Tokens are stored only as this hash, so a copy of the database does not sign anyone in. */
function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Session tokens, for HTTP (`Authorization: Bearer`) and the WebSocket's `auth` frame alike: a token
 * names a device of an account until it expires (sliding) or the device is revoked.
 */
export class Sessions {
  readonly #store: Pick<Store, "findSession" | "extendSession" | "usersById">;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(
    store: Pick<Store, "findSession" | "extendSession" | "usersById">,
    ttlDays: number,
    now: () => number = Date.now,
  ) {
    this.#store = store;
    this.#ttlMs = ttlDays * DAY_MS;
    this.#now = now;
  }

  /** The caller a token belongs to, or undefined if it is unknown, expired or its device revoked. */
  async authenticate(token: string): Promise<Caller | undefined> {
    const tokenHash = hashToken(token);
    const now = this.#now();
    const ttlMs = this.#ttlMs;
    const session = await this.#store.findSession(tokenHash, now);
    if (!session) return undefined;
    // Sliding expiry: a session lasts `ttl` since its last use. Refreshed at most daily (half-daily for a
    // one-day ttl) to spare writes; a failed refresh (full disk) only means it expires that much sooner.
    if (session.expiresAt - now < ttlMs - Math.min(DAY_MS, ttlMs / 2))
      void this.#store.extendSession(tokenHash, now + ttlMs).catch(() => undefined);
    const [user] = await this.#store.usersById([session.userId]);
    if (!user) return undefined;
    return {
      userId: session.userId,
      deviceId: session.deviceId,
      username: user.user.username,
      approved: session.approved,
    };
  }

  /** The caller of an HTTP request, by its bearer token; throws "unauthenticated" without a valid one. */
  async bearer(req: IncomingMessage): Promise<Caller> {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    const caller = token ? await this.authenticate(token) : undefined;
    if (!caller)
      throw new ProtocolError("unauthenticated", "missing, invalid, expired or revoked session token");
    return caller;
  }

  /** Like bearer, for what only a device the account signed in may do: "approval-required" otherwise. */
  async approvedBearer(req: IncomingMessage): Promise<Caller> {
    const caller = await this.bearer(req);
    if (!caller.approved)
      throw new ProtocolError(
        "approval-required",
        "this device waits for another device of the account to approve it",
      );
    return caller;
  }

  /** A new token for `deviceId` and the session record to store with the device. */
  issue(deviceId: string): { token: string; session: NewSession } {
    const token = toBase64Url(randomBytes(32));
    const now = this.#now();
    return {
      token,
      session: { tokenHash: hashToken(token), deviceId, createdAt: now, expiresAt: now + this.#ttlMs },
    };
  }
}
