import { createHash, randomInt } from "node:crypto";
import {
  API_PREFIX,
  type AuthResponse,
  LinkClaimRequest,
  type LinkCreateResponse,
  ProtocolError,
  toBase64,
} from "@sori/protocol";
import { accountNotice, type DeliveryNotifier } from "../delivery-service.ts";
import { newId } from "../ids.ts";
import type { Logger } from "../logger.ts";
import { RateLimiter, refuseIfLimited } from "../rate-limiter.ts";
import type { Sessions } from "../sessions.ts";
import type { Store } from "../store/store.ts";
import type { RequestContext, Route } from "./router.ts";

/** Letters and digits that cannot be mistaken for one another when read aloud or typed. */
const ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789";
const CODE_LENGTH = 10;
const LINK_TTL_MS = 10 * 60_000;

/** Upper case, without the dashes and spaces people type. */
function normaliseLinkCode(code: string): string {
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
export function linkRoutes(options: {
  store: Store;
  sessions: Sessions;
  log: Logger;
  claimsPerMinute: number;
  devicesPerAccount: number;
  notifier: Pick<DeliveryNotifier, "enqueued">;
}): Route[] {
  const { store, sessions, log, notifier } = options;
  const claims = new RateLimiter(options.claimsPerMinute, 60_000);

  const create = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.approvedBearer(ctx.req);
    let code = "";
    for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
    const now = Date.now();
    const expiresAt = now + LINK_TTL_MS;
    await store.createDeviceLink({
      codeHash: hashCode(code),
      userId: caller.userId,
      deviceId: caller.deviceId,
      createdAt: now,
      expiresAt,
    });
    log.info("account.link_created", { user: caller.userId, device: caller.deviceId });
    const display = `${code.slice(0, 5)}-${code.slice(5)}`;
    ctx.json(201, { code: display, expiresAt } satisfies LinkCreateResponse);
  };

  const claim = async (ctx: RequestContext): Promise<void> => {
    // The proxy-aware address (--trust-proxy): behind a proxy every socket is the proxy's own.
    refuseIfLimited(claims.take(ctx.address), "link attempts");
    const parsed = LinkClaimRequest.safeParse(await ctx.readJson());
    if (!parsed.success || !parsed.data.device.transferKey || !parsed.data.proof)
      throw new ProtocolError(
        "bad-request",
        "expected {code, device: {name, signatureKey, transferKey}, proof}",
      );
    const deviceId = newId();
    const { token, session } = sessions.issue(deviceId);
    const now = Date.now();
    const claimed = await store.claimDeviceLink(
      hashCode(parsed.data.code),
      now,
      {
        deviceId,
        name: parsed.data.device.name,
        signatureKey: parsed.data.device.signatureKey,
        createdAt: now,
        transferKey: parsed.data.device.transferKey,
        linkProof: parsed.data.proof,
      },
      session,
      options.devicesPerAccount,
      // Which account is not known before the code is used: the store fills the recipients in.
      accountNotice("device-pending", { userId: "", deviceId }, deviceId, now),
    );
    if (claimed.status === "invalid") {
      log.info("account.link_failed", {});
      throw new ProtocolError("auth-failed", "this link code is wrong, used or expired");
    }
    if (claimed.status === "too-many-devices")
      throw new ProtocolError(
        "too-many-devices",
        `this account has ${options.devicesPerAccount} devices signed in already: sign one out first`,
      );
    notifier.enqueued(claimed.enqueued);
    const [user] = await store.usersById([claimed.userId]);
    log.info("account.device_linked", { user: claimed.userId, device: deviceId });
    // The device that showed the code approves this one (it checks the proof the code's secret made).
    ctx.json(200, {
      userId: claimed.userId,
      username: user?.user.username ?? "",
      deviceId,
      token,
      approval: "pending",
      accountKey: user?.user.accountKey ? toBase64(user.user.accountKey) : null,
    } satisfies AuthResponse);
  };

  return [
    { method: "POST", path: `${API_PREFIX}/links`, handle: create },
    { method: "POST", path: `${API_PREFIX}/links/claim`, handle: claim },
  ];
}
