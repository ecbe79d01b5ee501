import {
  API_PREFIX,
  BridgedUsername,
  BridgeIdentityRequest,
  ProtocolError,
  splitBridgedUsername,
} from "@sori/protocol";
import type { Logger } from "../logger.ts";
import type { Caller, Sessions } from "../sessions.ts";
import type { Store } from "../store/store.ts";
import { parseBody } from "./body.ts";
import { createAccount } from "./new-account.ts";
import type { RequestContext, Route } from "./router.ts";

/**
 * A bridged identity has no password: this never verifies as an scrypt hash (password.ts), and
 * password logins refuse its username before looking (no plain username holds a colon).
 */
const NO_PASSWORD = "bridged";

/**
 * The gateway's endpoints for the bridged identities of its namespace (`--bridges xmpp=xmppgw`):
 * make one (an account without a password, with the one device the gateway runs) and remove one (its
 * devices signed out, so nobody can add it to a chat again; the username stays taken).
 */
export function bridgeRoutes(options: {
  store: Store;
  sessions: Sessions;
  log: Logger;
  /** Namespace → the gateway username (lower case) that owns it. */
  bridges: Readonly<Record<string, string>>;
  /** Closes the device's WebSocket, if it has one. */
  dropDevice(deviceId: string, reason: string): void;
}): Route[] {
  const { store, sessions, log, bridges, dropDevice } = options;

  /** The namespace of `username`, if the caller's account is the gateway that owns it. */
  const ownNamespace = (caller: Caller, username: string): string => {
    const namespace = splitBridgedUsername(username)?.namespace ?? "";
    if (bridges[namespace] !== caller.username.toLowerCase())
      throw new ProtocolError("forbidden", `this account is not the gateway for "${namespace}:" identities`);
    return namespace;
  };

  const create = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.approvedBearer(ctx.req);
    const body = parseBody(BridgeIdentityRequest, await ctx.readJson());
    const namespace = ownNamespace(caller, body.username);
    const created = await createAccount(
      { store, sessions },
      {
        username: body.username,
        passwordHash: NO_PASSWORD,
        device: body.device,
        takenMessage: `the identity "${body.username}" exists already`,
      },
    );
    log.info("bridge.identity_created", {
      namespace,
      user: created.userId,
      device: created.deviceId,
      by: caller.userId,
    });
    ctx.json(201, created);
  };

  const remove = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.approvedBearer(ctx.req);
    let username: string;
    try {
      username = BridgedUsername.parse(decodeURIComponent(ctx.params[0]!));
    } catch {
      throw new ProtocolError("bad-request", "expected a bridged username (namespace:address), URL-encoded");
    }
    const namespace = ownNamespace(caller, username);
    const user = await store.findUserByUsername(username);
    if (!user) throw new ProtocolError("not-found", `no identity "${username}"`);
    const now = Date.now();
    const live = (await store.listDevices(user.userId)).filter((d) => d.revokedAt === null);
    for (const d of live) {
      await store.revokeDevice(d.deviceId, now);
      dropDevice(d.deviceId, "the bridged identity was removed by its gateway");
    }
    log.info("bridge.identity_removed", { namespace, user: user.userId, devices: live.length });
    ctx.res.writeHead(204).end();
  };

  return [
    { method: "POST", path: `${API_PREFIX}/bridge/identities`, handle: create },
    { method: "DELETE", path: /^\/api\/v1\/bridge\/identities\/([^/]{3,800})$/, handle: remove },
  ];
}
