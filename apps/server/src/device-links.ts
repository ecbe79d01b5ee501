import { createHash, randomInt } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  API_PREFIX,
  type AuthResponse,
  LinkClaimRequest,
  type LinkCreateResponse,
  ProtocolError,
} from "@sori/protocol";
import { sendJson } from "./json-response.ts";
import type { Logger } from "./logger.ts";
import { RateLimiter } from "./rate-limiter.ts";
import type { NewSession, Store } from "./store/store.ts";

/** Letters and digits that cannot be mistaken for one another when read aloud or typed. */
const ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789";
const CODE_LENGTH = 10;
const LINK_TTL_MS = 10 * 60_000;

type Caller = { userId: string; deviceId: string };

/** Upper case, without the dashes and spaces people type. */
export function normaliseLinkCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, "");
}

const hashCode = (code: string): string =>
  createHash("sha256").update(normaliseLinkCode(code)).digest("base64url");

/**
 * Device linking: a signed-in device asks for a short single-use code (10 characters, ~49 bits,
 * 10 minutes) and shows it (or a QR code); a new device sends it with its public key instead of
 * the password and becomes a device of that account. Claims are rate-limited per address, so the
 * code cannot be guessed in its lifetime. The server keeps only a hash of the code.
 */
export class DeviceLinks {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #claims: RateLimiter;

  constructor(options: { store: Store; log: Logger; claimsPerMinute: number }) {
    this.#store = options.store;
    this.#log = options.log;
    this.#claims = new RateLimiter(options.claimsPerMinute, 60_000);
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    auth: (req: IncomingMessage) => Promise<Caller>,
    readJson: (req: IncomingMessage) => Promise<unknown>,
    newSession: (deviceId: string) => { token: string; session: NewSession },
    newId: () => string,
  ): Promise<boolean> {
    const method = req.method ?? "GET";
    if (path === `${API_PREFIX}/links` && method === "POST") {
      const caller = await auth(req);
      let code = "";
      for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
      const now = Date.now();
      const expiresAt = now + LINK_TTL_MS;
      await this.#store.createDeviceLink({
        codeHash: hashCode(code),
        userId: caller.userId,
        deviceId: caller.deviceId,
        createdAt: now,
        expiresAt,
      });
      this.#log.info("account.link_created", { user: caller.userId, device: caller.deviceId });
      const display = `${code.slice(0, 5)}-${code.slice(5)}`;
      sendJson(res, 201, { code: display, expiresAt } satisfies LinkCreateResponse);
      return true;
    }
    if (path === `${API_PREFIX}/links/claim` && method === "POST") {
      const wait = this.#claims.take(req.socket.remoteAddress ?? "?");
      if (wait > 0)
        throw new ProtocolError("rate-limited", `too many link attempts; retry in ${wait} s`, {
          retryAfterS: wait,
        });
      const parsed = LinkClaimRequest.safeParse(await readJson(req));
      if (!parsed.success)
        throw new ProtocolError("bad-request", "expected {code, device: {name, signatureKey}}");
      const deviceId = newId();
      const { token, session } = newSession(deviceId);
      const now = Date.now();
      const userId = await this.#store.claimDeviceLink(
        hashCode(parsed.data.code),
        now,
        {
          deviceId,
          name: parsed.data.device.name,
          signatureKey: parsed.data.device.signatureKey,
          createdAt: now,
        },
        session,
      );
      if (!userId) {
        this.#log.info("account.link_failed", {});
        throw new ProtocolError("auth-failed", "this link code is wrong, used or expired");
      }
      const [user] = await this.#store.usersById([userId]);
      this.#log.info("account.device_linked", { user: userId, device: deviceId });
      sendJson(res, 200, {
        userId,
        username: user?.user.username ?? "",
        deviceId,
        token,
      } satisfies AuthResponse);
      return true;
    }
    return false;
  }
}
