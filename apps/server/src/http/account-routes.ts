import {
  API_PREFIX,
  type AuthRequest,
  AuthRequest as AuthRequestSchema,
  type AuthResponse,
  type DeviceListResponse,
  type Limits,
  PasswordChangeRequest,
  ProtocolError,
  toBase64,
} from "@sori/protocol";
import { accountNotice, type DeliveryNotifier } from "../delivery-service.ts";
import { newId } from "../ids.ts";
import type { Logger } from "../logger.ts";
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from "../password.ts";
import { RateLimiter, refuseIfLimited } from "../rate-limiter.ts";
import type { Sessions } from "../sessions.ts";
import type { Store } from "../store/store.ts";
import { parseBody } from "./body.ts";
import { createAccount } from "./new-account.ts";
import type { RequestContext, Route } from "./router.ts";

function parseAuthRequest(body: unknown): AuthRequest {
  return parseBody(AuthRequestSchema, body);
}

/**
 * The account endpoints: register, log in (each a new device with its own session), log out, list
 * the account's devices and revoke one. Logging out or revoking also drops the device's connection.
 */
export function accountRoutes(options: {
  store: Store;
  sessions: Sessions;
  log: Logger;
  limits: Pick<Limits, "loginAttemptsPerMinute" | "registrationsPerMinute" | "devicesPerAccount">;
  /** Closes the device's WebSocket, if it has one. */
  dropDevice(deviceId: string, reason: string): void;
  /** Pushes queue entries to online devices (the sign-in notices). */
  notifier: Pick<DeliveryNotifier, "enqueued">;
}): Route[] {
  const { store, sessions, log, limits, dropDevice, notifier } = options;
  // Per (username, address) the configured limit; per username and per address ten times that. A
  // stranger cannot lock a user out from elsewhere as quickly, and guessing stays bounded.
  const loginLimiter = new RateLimiter(limits.loginAttemptsPerMinute, 60_000);
  const loginUserLimiter = new RateLimiter(limits.loginAttemptsPerMinute * 10, 60_000);
  const loginAddressLimiter = new RateLimiter(limits.loginAttemptsPerMinute * 10, 60_000);
  const registerLimiter = new RateLimiter(limits.registrationsPerMinute, 60_000);

  const register = async (ctx: RequestContext): Promise<void> => {
    refuseIfLimited(registerLimiter.take(ctx.address), "registrations");
    const body = parseAuthRequest(await ctx.readJson());
    const created = await createAccount(
      { store, sessions },
      {
        username: body.username,
        passwordHash: await hashPassword(body.password),
        device: body.device,
        takenMessage: `the username "${body.username}" is taken`,
      },
    );
    log.info("account.registered", { user: created.userId, device: created.deviceId });
    ctx.json(201, created);
  };

  const login = async (ctx: RequestContext): Promise<void> => {
    const body = parseAuthRequest(await ctx.readJson());
    const name = body.username.toLowerCase();
    const wait = Math.max(
      loginLimiter.take(`${name}\0${ctx.address}`),
      loginUserLimiter.take(name),
      loginAddressLimiter.take(ctx.address),
    );
    refuseIfLimited(wait, "login attempts");
    const user = await store.findUserByUsername(body.username);
    // Verify against a dummy hash for unknown users so the answer takes as long either way.
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) {
      log.info("account.login_failed", {});
      throw new ProtocolError("auth-failed", "wrong username or password");
    }
    if (!body.device.transferKey)
      throw new ProtocolError("bad-request", "a new device needs a transferKey (update the app)");
    const deviceId = newId();
    const now = Date.now();
    const { token, session } = sessions.issue(deviceId);
    // A password alone does not make a device part of the account: another device must approve it,
    // or, with none left, this one makes a new account key (every contact then sees the change).
    const approvers = (await store.listDevices(user.userId)).filter(
      (d) => d.revokedAt === null && d.approvedAt !== null,
    );
    const added = await store.addDevice(
      {
        deviceId,
        userId: user.userId,
        name: body.device.name,
        signatureKey: body.device.signatureKey,
        createdAt: now,
        transferKey: body.device.transferKey,
      },
      session,
      limits.devicesPerAccount,
      accountNotice("device-pending", { userId: user.userId, deviceId }, deviceId, now),
    );
    if (added.status === "too-many-devices")
      throw new ProtocolError(
        "too-many-devices",
        `this account has ${limits.devicesPerAccount} devices signed in already: sign one out first`,
      );
    notifier.enqueued(added.enqueued);
    log.info("account.device_signed_in", {
      user: user.userId,
      device: deviceId,
      approvers: approvers.length,
    });
    ctx.json(200, {
      userId: user.userId,
      username: user.username,
      deviceId,
      token,
      approval: approvers.length > 0 && user.accountKey ? "pending" : "reset-required",
      accountKey: user.accountKey ? toBase64(user.accountKey) : null,
    } satisfies AuthResponse);
  };

  const changePassword = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.approvedBearer(ctx.req);
    const parsed = PasswordChangeRequest.safeParse(await ctx.readJson());
    if (!parsed.success)
      throw new ProtocolError("bad-request", "expected {password, newPassword} (8 to 1024 characters)");
    const name = caller.username.toLowerCase();
    refuseIfLimited(
      Math.max(loginLimiter.take(`${name}\0${ctx.address}`), loginUserLimiter.take(name)),
      "password attempts",
    );
    const user = await store.findUserByUsername(caller.username);
    if (!user || !(await verifyPassword(parsed.data.password, user.passwordHash)))
      throw new ProtocolError("auth-failed", "the current password is wrong");
    const revoked = await store.setPassword(
      user.userId,
      await hashPassword(parsed.data.newPassword),
      caller.deviceId,
      Date.now(),
    );
    for (const d of revoked) dropDevice(d, "the account's password changed");
    log.info("account.password_changed", {
      user: user.userId,
      device: caller.deviceId,
      signedOut: revoked.length,
    });
    ctx.res.writeHead(204).end();
  };

  const logout = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.bearer(ctx.req);
    await store.revokeDevice(caller.deviceId, Date.now());
    dropDevice(caller.deviceId, "logged out");
    log.info("account.logout", { device: caller.deviceId });
    ctx.res.writeHead(204).end();
  };

  const listDevices = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.bearer(ctx.req);
    const devices = (await store.listDevices(caller.userId)).filter((d) => d.revokedAt === null);
    ctx.json(200, {
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        name: d.name,
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        current: d.deviceId === caller.deviceId,
        state: d.approvedAt === null ? ("pending" as const) : ("active" as const),
      })),
    } satisfies DeviceListResponse);
  };

  const revoke = async (ctx: RequestContext): Promise<void> => {
    // A device waiting for approval must not sign the account's real devices out.
    const caller = await sessions.approvedBearer(ctx.req);
    const target = ctx.params[0]!;
    const own = (await store.listDevices(caller.userId)).some(
      (d) => d.deviceId === target && d.revokedAt === null,
    );
    if (!own) throw new ProtocolError("not-found", "no such device on this account");
    await store.revokeDevice(target, Date.now());
    dropDevice(target, "device revoked");
    log.info("account.device_revoked", { device: target, by: caller.deviceId });
    ctx.res.writeHead(204).end();
  };

  return [
    { method: "POST", path: `${API_PREFIX}/register`, handle: register },
    { method: "POST", path: `${API_PREFIX}/login`, handle: login },
    { method: "POST", path: `${API_PREFIX}/logout`, handle: logout },
    { method: "POST", path: `${API_PREFIX}/password`, handle: changePassword },
    { method: "GET", path: `${API_PREFIX}/devices`, handle: listDevices },
    { method: "DELETE", path: /^\/api\/v1\/devices\/([A-Za-z0-9_-]{16,43})$/, handle: revoke },
  ];
}
