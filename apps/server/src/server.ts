import { createHash, randomBytes } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import {
  API_PREFIX,
  type AuthRequest,
  AuthRequest as AuthRequestSchema,
  type AuthResponse,
  type DeviceListResponse,
  type ErrorCode,
  type HealthResponse,
  httpStatusFor,
  PROTOCOL_VERSION,
  ProtocolError,
  toBase64Url,
  WS_PATH,
} from "@sori/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { AddressSlots } from "./address-slots.ts";
import { clientAddress } from "./client-address.ts";
import { sendJson } from "./json-response.ts";
import type { ServerConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import { type Caller, DeliveryService } from "./delivery-service.ts";
import { createLogger, type Logger } from "./logger.ts";
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from "./password.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { toProtocolError } from "./request-errors.ts";
import { ServerMetrics } from "./server-metrics.ts";
import { BlobStore } from "./blob-store.ts";
import { DeviceLinks } from "./device-links.ts";
import { startRetention } from "./retention.ts";
import { createStaticFiles } from "./static-files.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import { httpTimeoutOptions } from "./timeouts.ts";
import { HSTS_HEADER, readTlsFiles } from "./tls.ts";
import type { Enqueued, Store, StoreStats } from "./store/store.ts";
import { openThreadedStore } from "./store/threaded-store.ts";

export const SERVER_VERSION = "0.1.0";

/** A running server. */
export type RunningServer = {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
};

/** The most of an oversized HTTP body the server reads (and discards) to answer 413 cleanly. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;
const SEEN_RETENTION_MS = 30 * 86_400_000;
const PRUNE_CHUNK = 2000;
const PRUNE_MAX_CHUNKS = 500;
/** A store that has not answered a read within this long is reported unhealthy. */
const HEALTH_TIMEOUT_MS = 2000;

const newId = (): string => toBase64Url(randomBytes(16));
const hashToken = (token: string): string => createHash("sha256").update(token).digest("base64url");

/** Starts the HTTP API and WebSocket endpoint on one port, backed by the embedded SQLite store. */
export async function startServer(config: ServerConfig, logger?: Logger): Promise<RunningServer> {
  const log = logger ?? createLogger(config.logLevel);
  // Read before anything else starts, so a bad path fails the start cleanly.
  const tls = config.tlsCert && config.tlsKey ? readTlsFiles(config.tlsCert, config.tlsKey) : undefined;
  const storeOptions = {
    dataDir: config.dataDir,
    durability: config.durability,
    maxBytes: config.maxDbMb * 1024 * 1024,
    cacheMb: config.dbCacheMb,
    mmapMb: config.dbMmapMb,
    checkpointMs: config.dbCheckpointMs,
  };
  const store: Store = config.storeThread
    ? await openThreadedStore(storeOptions)
    : new SqliteStore(storeOptions);
  const limits = config.limits;
  const connections = new Map<string, Connection>();
  const perUser = new Map<string, Set<Connection>>();
  const staticFiles = createStaticFiles({ webDir: config.webDir, log });
  // Assigned once the WebSocket server exists; read only at scrape time.
  let openSockets = (): number => 0;
  const metrics = new ServerMetrics({
    sockets: () => openSockets(),
    devices: () => connections.size,
    unackedDeliveries: () => {
      let n = 0;
      for (const c of connections.values()) n += c.unacked;
      return n;
    },
  });

  /** The store's figures, or undefined if it does not answer in time (it is then unhealthy). */
  const storeStats = async (): Promise<StoreStats | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), HEALTH_TIMEOUT_MS);
    });
    try {
      return await Promise.race([store.stats(), timeout]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  const service = new DeliveryService(
    store,
    limits,
    log,
    {
      enqueued: (entries: Enqueued) => {
        for (const { deviceId, delivery } of entries) connections.get(deviceId)?.offer(delivery);
      },
      keyPackagesLow: (deviceId, remaining) =>
        connections.get(deviceId)?.notify({ type: "kp.low", remaining }),
      relay: (deviceIds, frame) => {
        for (const id of deviceIds) connections.get(id)?.notify(frame);
      },
    },
    Date.now,
    config.turn,
    config.retentionDays,
  );
  const blobs = new BlobStore({ dataDir: config.dataDir, store, log, maxFileBytes: config.maxFileBytes });
  const links = new DeviceLinks({ store, log, claimsPerMinute: limits.loginAttemptsPerMinute });

  // Per (username, address) the configured limit; per username and per address ten times that. A
  // stranger cannot lock a user out from elsewhere as quickly, and guessing stays bounded.
  const loginLimiter = new RateLimiter(limits.loginAttemptsPerMinute, 60_000);
  const loginUserLimiter = new RateLimiter(limits.loginAttemptsPerMinute * 10, 60_000);
  const loginAddressLimiter = new RateLimiter(limits.loginAttemptsPerMinute * 10, 60_000);
  const registerLimiter = new RateLimiter(limits.registrationsPerMinute, 60_000);

  const ttlMs = config.sessionTtlDays * 86_400_000;
  const authenticateToken = async (token: string): Promise<Caller | undefined> => {
    const tokenHash = hashToken(token);
    const now = Date.now();
    const session = await store.findSession(tokenHash, now);
    if (!session) return undefined;
    // Sliding expiry: a session lasts `ttl` since its last use. Refreshed at most daily (half-daily for a
    // one-day ttl) to spare writes; a failed refresh (full disk) only means it expires that much sooner.
    if (session.expiresAt - now < ttlMs - Math.min(86_400_000, ttlMs / 2))
      void store.extendSession(tokenHash, now + ttlMs).catch(() => undefined);
    const [user] = await store.usersById([session.userId]);
    if (!user) return undefined;
    return { userId: session.userId, deviceId: session.deviceId, username: user.user.username };
  };

  const dropDevice = (deviceId: string, reason: string): void => {
    connections.get(deviceId)?.close(4003, reason);
  };

  // --- HTTP ---------------------------------------------------------------------------------

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Past the limit the rest is read and dropped (not buffered) so the client gets the 413
      // instead of a reset connection; past the hard cap the connection is cut.
      if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        break;
      }
      if (size <= limits.maxFrameBytes) chunks.push(chunk);
    }
    if (size > limits.maxFrameBytes) {
      throw new ProtocolError("too-large", `request body exceeds ${limits.maxFrameBytes} bytes`, {
        limit: limits.maxFrameBytes,
      });
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw new ProtocolError("bad-request", "request body is not valid JSON");
    }
  };

  const parseAuthRequest = (body: unknown): AuthRequest => {
    const parsed = AuthRequestSchema.safeParse(body);
    if (!parsed.success) {
      const why = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ");
      throw new ProtocolError("bad-request", `invalid request: ${why}`);
    }
    return parsed.data;
  };

  const bearer = async (req: IncomingMessage): Promise<Caller & { tokenHash: string }> => {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    const caller = token ? await authenticateToken(token) : undefined;
    if (!caller)
      throw new ProtocolError("unauthenticated", "missing, invalid, expired or revoked session token");
    return { ...caller, tokenHash: hashToken(token) };
  };

  const newSession = (deviceId: string): { token: string; session: Parameters<Store["addDevice"]>[1] } => {
    const token = toBase64Url(randomBytes(32));
    const now = Date.now();
    return {
      token,
      session: {
        tokenHash: hashToken(token),
        deviceId,
        createdAt: now,
        expiresAt: now + ttlMs,
      },
    };
  };

  const register = async (req: IncomingMessage): Promise<AuthResponse> => {
    const wait = registerLimiter.take(clientAddress(req, config.trustProxy));
    if (wait > 0)
      throw new ProtocolError("rate-limited", `too many registrations; retry in ${wait} s`, {
        retryAfterS: wait,
      });
    const body = parseAuthRequest(await readJson(req));
    const userId = newId();
    const deviceId = newId();
    const now = Date.now();
    const { token, session } = newSession(deviceId);
    const outcome = await store.createUserWithDevice(
      { userId, username: body.username, passwordHash: await hashPassword(body.password), createdAt: now },
      { deviceId, userId, name: body.device.name, signatureKey: body.device.signatureKey, createdAt: now },
      session,
    );
    if (outcome === "username-taken")
      throw new ProtocolError("username-taken", `the username "${body.username}" is taken`);
    log.info("account.registered", { user: userId, device: deviceId });
    return { userId, username: body.username, deviceId, token };
  };

  const login = async (req: IncomingMessage): Promise<AuthResponse> => {
    const body = parseAuthRequest(await readJson(req));
    const address = clientAddress(req, config.trustProxy);
    const name = body.username.toLowerCase();
    const wait = Math.max(
      loginLimiter.take(`${name}\0${address}`),
      loginUserLimiter.take(name),
      loginAddressLimiter.take(address),
    );
    if (wait > 0)
      throw new ProtocolError("rate-limited", `too many login attempts; retry in ${wait} s`, {
        retryAfterS: wait,
      });
    const user = await store.findUserByUsername(body.username);
    // Verify against a dummy hash for unknown users so the answer takes as long either way.
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) {
      log.info("account.login_failed", {});
      throw new ProtocolError("auth-failed", "wrong username or password");
    }
    const deviceId = newId();
    const now = Date.now();
    const { token, session } = newSession(deviceId);
    await store.addDevice(
      {
        deviceId,
        userId: user.userId,
        name: body.device.name,
        signatureKey: body.device.signatureKey,
        createdAt: now,
      },
      session,
    );
    log.info("account.device_added", { user: user.userId, device: deviceId });
    return { userId: user.userId, username: user.username, deviceId, token };
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const json = (status: number, body: unknown): void => sendJson(res, status, body);
    if (path === "/healthz" && method === "GET") {
      const stats = await storeStats();
      const store = stats === undefined ? "unavailable" : stats.writable ? "ok" : "read-only";
      const ok = store === "ok";
      if (!ok) log.warn("health.store_unavailable", { store });
      json(ok ? 200 : 503, {
        ok,
        version: SERVER_VERSION,
        protocol: PROTOCOL_VERSION,
        store,
      } satisfies HealthResponse);
      return;
    }
    if (path === "/metrics" && method === "GET" && config.metrics) {
      const text = metrics.render(await storeStats());
      res.writeHead(200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.end(text);
      return;
    }
    if (path === `${API_PREFIX}/register` && method === "POST") return json(201, await register(req));
    if (path === `${API_PREFIX}/login` && method === "POST") return json(200, await login(req));
    if (path === `${API_PREFIX}/logout` && method === "POST") {
      const caller = await bearer(req);
      await store.revokeDevice(caller.deviceId, Date.now());
      dropDevice(caller.deviceId, "logged out");
      log.info("account.logout", { device: caller.deviceId });
      res.writeHead(204).end();
      return;
    }
    if (path === `${API_PREFIX}/devices` && method === "GET") {
      const caller = await bearer(req);
      const devices = (await store.listDevices(caller.userId)).filter((d) => d.revokedAt === null);
      json(200, {
        devices: devices.map((d) => ({
          deviceId: d.deviceId,
          name: d.name,
          createdAt: d.createdAt,
          lastSeenAt: d.lastSeenAt,
          current: d.deviceId === caller.deviceId,
        })),
      } satisfies DeviceListResponse);
      return;
    }
    const revoke = path.match(/^\/api\/v1\/devices\/([A-Za-z0-9_-]{16,43})$/);
    if (revoke && method === "DELETE") {
      const caller = await bearer(req);
      const target = revoke[1]!;
      const own = (await store.listDevices(caller.userId)).some(
        (d) => d.deviceId === target && d.revokedAt === null,
      );
      if (!own) throw new ProtocolError("not-found", "no such device on this account");
      await store.revokeDevice(target, Date.now());
      dropDevice(target, "device revoked");
      log.info("account.device_revoked", { device: target, by: caller.deviceId });
      res.writeHead(204).end();
      return;
    }
    if (path.startsWith(`${API_PREFIX}/blobs`) && (await blobs.handle(req, res, url, bearer, readJson)))
      return;
    if (
      path.startsWith(`${API_PREFIX}/links`) &&
      (await links.handle(req, res, path, bearer, readJson, newSession, newId))
    )
      return;
    // Everything under /api/ is the API, so a mistyped endpoint gets a JSON error, not the app's HTML.
    if (path === "/api" || path.startsWith("/api/") || path === "/healthz" || path === "/metrics")
      throw new ProtocolError("not-found", `no endpoint ${method} ${path}`);
    await staticFiles.serve(req, res);
  };

  const handle: RequestListener = (req, res) => {
    if (tls) res.setHeader("strict-transport-security", HSTS_HEADER);
    route(req, res).catch((error: unknown) => {
      const e = toProtocolError(error, log, `${req.method ?? "GET"} ${req.url?.split("?")[0]}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const code: ErrorCode = e.code;
      res.writeHead(httpStatusFor(code), {
        "content-type": "application/json; charset=utf-8",
        "x-content-type-options": "nosniff",
      });
      res.end(
        JSON.stringify({
          error: {
            code,
            message: e.message,
            ...(Object.keys(e.details).length ? { details: e.details } : {}),
          },
        }),
      );
    });
  };
  const serverOptions = httpTimeoutOptions(config.timeouts);
  const httpServer: Server = tls
    ? createHttpsServer({ ...serverOptions, ...tls }, handle)
    : createHttpServer(serverOptions, handle);

  // --- WebSocket --------------------------------------------------------------------------------

  // ws enforces a hard cap far above our limit, so a frame between the two gets a typed
  // "too-large" error frame instead of a dropped connection.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes * 4,
    perMessageDeflate: false,
  });

  const hooks = {
    authenticate: authenticateToken,
    attach: (conn: Connection): ProtocolError | undefined => {
      const caller = conn.caller!;
      const mine = perUser.get(caller.userId) ?? new Set<Connection>();
      const previous = connections.get(caller.deviceId);
      const replaces = previous !== undefined && previous !== conn && mine.has(previous);
      // Checked before anything is closed: a refused connection must not cost the device its old one.
      if (mine.size - (replaces ? 1 : 0) >= limits.connectionsPerAccount) {
        return new ProtocolError(
          "too-many-connections",
          `at most ${limits.connectionsPerAccount} connections per account`,
        );
      }
      // One connection per device: a reconnect replaces a half-dead old socket.
      if (previous && previous !== conn)
        previous.close(4000, "replaced by a newer connection of this device");
      mine.add(conn);
      perUser.set(caller.userId, mine);
      connections.set(caller.deviceId, conn);
      void store.touchDevice(caller.deviceId, Date.now()).catch(() => undefined);
      return undefined;
    },
    detach: (conn: Connection): void => {
      const caller = conn.caller!;
      if (connections.get(caller.deviceId) === conn) connections.delete(caller.deviceId);
      const mine = perUser.get(caller.userId);
      mine?.delete(conn);
      if (mine && mine.size === 0) perUser.delete(caller.userId);
    },
  };

  openSockets = () => wss.clients.size;

  // One heartbeat sweep for all sockets (not a timer per connection: idle connections are what a
  // server holds most of): a socket that sent nothing and did not answer the previous ping within half
  // of the idle timeout is terminated (a half-open connection after a network change, or a silent peer).
  const unanswered = new WeakSet<WebSocket>();
  const heartbeat = setInterval(
    () => {
      for (const ws of wss.clients) {
        if (unanswered.has(ws)) {
          ws.terminate();
          continue;
        }
        unanswered.add(ws);
        ws.ping();
      }
    },
    (config.timeouts.idleS * 1000) / 2,
  );
  heartbeat.unref();

  const unauthenticated = new AddressSlots(limits.unauthenticatedPerAddress);
  // Set up outside the upgrade handler: closures made there would keep its context, and with it the
  // upgrade request (headers, parser state), alive for as long as the connection lasts.
  const attach = (ws: WebSocket, address: string, authenticated: () => void): void => {
    metrics.connectionOpened();
    // Frames sent in one go (a batch of results and deliveries) leave in one write instead of one
    // syscall each: the raw socket stays corked until the current tick's work is done.
    const raw = (ws as unknown as { _socket: Socket })._socket;
    let corked = false;
    const uncork = (): void => {
      corked = false;
      raw.uncork();
    };
    const conn = new Connection(
      {
        send: (text) => {
          if (!corked) {
            corked = true;
            raw.cork();
            process.nextTick(uncork);
          }
          ws.send(text);
        },
        close: (code, reason) => ws.close(code, reason),
        bufferedAmount: () => ws.bufferedAmount,
      },
      service,
      store,
      hooks,
      log,
      {
        window: limits.deliveryWindow,
        maxFrameBytes: limits.maxFrameBytes,
        maxInFlight: limits.requestsInFlight,
        authTimeoutMs: config.timeouts.authS * 1000,
        address,
        metrics,
      },
    );
    unanswered.delete(ws);
    ws.on("pong", () => unanswered.delete(ws));
    ws.on("message", (data, isBinary) => {
      unanswered.delete(ws);
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      if (isBinary) {
        ws.send(
          JSON.stringify({
            type: "error",
            code: "bad-frame",
            message: "binary frames are not supported; send JSON text",
          }),
        );
        return;
      }
      const done = conn.receive(buf.toString("utf8"), buf.length);
      // Until it authenticates the socket holds one of its address's slots (see the upgrade handler).
      if (!conn.caller)
        void done.then(() => {
          if (conn.caller) authenticated();
        });
    });
    ws.on("close", () => conn.closed());
    ws.on("error", () => conn.closed());
  };

  httpServer.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== WS_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    const address = clientAddress(req, config.trustProxy);
    // Sockets that never authenticate cost memory and a file each until the auth timeout: one address
    // may hold only so many at once.
    if (!unauthenticated.take(address)) {
      const retryAfterS = config.timeouts.authS;
      const body = JSON.stringify({
        error: {
          code: "rate-limited",
          message: `too many connections from this address are waiting to authenticate; retry in ${retryAfterS} s`,
          details: { retryAfterS },
        },
      });
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: ${retryAfterS}\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    let slotHeld = true;
    const releaseSlot = (): void => {
      if (!slotHeld) return;
      slotHeld = false;
      unauthenticated.release(address);
    };
    socket.once("close", releaseSlot);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => attach(ws, address, releaseSlot));
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  log.info("server.listening", {
    url,
    data: config.dataDir,
    durability: config.durability,
    tls: tls !== undefined,
    web: (await staticFiles.built()) ? config.webDir : "not built",
  });

  // Message ids are remembered (to recognise resends) for 30 days, then forgotten.
  // In bounded chunks, each its own short transaction, so pruning never stalls delivery for long.
  const prune = async (): Promise<void> => {
    let total = 0;
    try {
      for (let i = 0; i < PRUNE_MAX_CHUNKS; i++) {
        const n = await store.pruneSeen(Date.now() - SEEN_RETENTION_MS, PRUNE_CHUNK);
        total += n;
        if (n < PRUNE_CHUNK) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      if (total > 0) log.info("store.pruned_seen", { count: total });
    } catch {
      log.warn("store.prune_failed", {});
    }
  };
  void prune();
  const pruneTimer = setInterval(() => void prune(), 3_600_000);
  pruneTimer.unref();
  const retention = startRetention({ store, log, retentionDays: config.retentionDays, blobs });

  return {
    url,
    port,
    store,
    close: async () => {
      clearInterval(pruneTimer);
      clearInterval(heartbeat);
      metrics.stop();
      retention.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await store.close();
      log.info("server.stopped", {});
    },
  };
}
