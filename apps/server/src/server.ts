import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { BlobFiles } from "./blob-files.ts";
import type { ServerConfig } from "./config.ts";
import { ConnectionRegistry } from "./connection-registry.ts";
import { DeliveryService } from "./delivery-service.ts";
import { accountRoutes } from "./http/account-routes.ts";
import { bridgeRoutes } from "./http/bridge-routes.ts";
import { blobRoutes } from "./http/blob-routes.ts";
import { healthRoutes } from "./http/health-routes.ts";
import { linkRoutes } from "./http/link-routes.ts";
import { createRouter } from "./http/router.ts";
import { createStaticFiles } from "./http/static-files.ts";
import { createLogger, type Logger } from "./logger.ts";
import { HeldRings } from "./push/held-rings.ts";
import { PushRequests } from "./push/push-requests.ts";
import { loadVapidKey, type Vapid } from "./push/vapid.ts";
import { Waker } from "./push/waker.ts";
import { WakingNotifier } from "./push/waking-notifier.ts";
import { startRetention, startSeenPruning } from "./retention.ts";
import { ServerMetrics } from "./server-metrics.ts";
import { Sessions } from "./sessions.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import type { Store } from "./store/store.ts";
import { openThreadedStore } from "./store/threaded-store.ts";
import { httpTimeoutOptions } from "./timeouts.ts";
import { readTlsFiles } from "./tls.ts";
import { acceptWebSockets } from "./ws/upgrade.ts";

/** A running server. */
export type RunningServer = {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
};

/** Opens the embedded SQLite store, on its own thread unless `--store-thread off`. */
async function openStore(config: ServerConfig): Promise<Store> {
  const options = {
    dataDir: config.dataDir,
    durability: config.durability,
    maxBytes: config.maxDbMb * 1024 * 1024,
    cacheMb: config.dbCacheMb,
    mmapMb: config.dbMmapMb,
    checkpointMs: config.dbCheckpointMs,
  };
  return config.storeThread ? await openThreadedStore(options) : new SqliteStore(options);
}

/**
 * Web Push, unless `--push-hosts off`: the VAPID key from the data directory (made at the first
 * start), the Waker that sends wake-ups, and the `push.*` requests.
 */
function startPush(
  config: ServerConfig,
  vapid: Vapid | undefined,
  store: Store,
  log: Logger,
  isConnected: (deviceId: string) => boolean,
): { waker: Waker | undefined; requests: PushRequests } {
  const policy = { hosts: config.push.hosts, loopbackHttp: config.push.loopbackHttp };
  let waker: Waker | undefined;
  if (vapid) {
    waker = new Waker({ store, vapid, policy, log, isConnected });
    log.info("push.ready", {
      vapidPublicKey: vapid.publicKey,
      hosts: typeof policy.hosts === "string" ? policy.hosts : policy.hosts.join(","),
    });
    if (!config.push.contact)
      log.warn("push.contact_missing", {
        hint: "set --push-contact mailto:you@your-domain: Apple's push service (Safari, iPhone) refuses pushes without one",
      });
  }
  return { waker, requests: new PushRequests({ store, policy, vapid, waker, log }) };
}

/** Starts the HTTP API and WebSocket endpoint on one port, backed by the embedded SQLite store. */
export async function startServer(config: ServerConfig, logger?: Logger): Promise<RunningServer> {
  const log = logger ?? createLogger(config.logLevel);
  const { limits } = config;
  // Read before anything else starts, so a bad path fails the start cleanly.
  const tls = config.tlsCert && config.tlsKey ? readTlsFiles(config.tlsCert, config.tlsKey) : undefined;
  const vapid =
    config.push.hosts === "off" ? undefined : loadVapidKey(config.dataDir, config.push.contact, log);
  const store = await openStore(config);
  const push = startPush(config, vapid, store, log, (id) => registry.isConnected(id));
  const registry: ConnectionRegistry = new ConnectionRegistry(limits.connectionsPerAccount, (conn) =>
    notifier.ready(conn),
  );
  // Online devices through the registry; offline ones are woken (Web Push) and rings held for them.
  const notifier: WakingNotifier = new WakingNotifier(registry, new HeldRings(), push.waker);
  const sessions = new Sessions(store, config.sessionTtlDays);
  const staticFiles = createStaticFiles({ webDir: config.webDir, log });
  const blobFiles = new BlobFiles(config.dataDir);
  // Assigned once the WebSocket endpoint exists; read only at scrape time.
  let openSockets = (): number => 0;
  const metrics = new ServerMetrics({
    sockets: () => openSockets(),
    devices: () => registry.devices,
    unackedDeliveries: () => registry.unacked(),
    pushes: () => push.waker?.stats ?? { sent: 0, gone: 0, failed: 0 },
  });
  const service = new DeliveryService({
    store,
    limits,
    log,
    notifier,
    turn: config.turn,
    retentionDays: config.retentionDays,
    gateways: config.gateways,
    bridges: config.bridges,
    push: push.requests,
  });

  const handle = createRouter({
    routes: [
      ...healthRoutes({ store, log, metrics: config.metrics ? metrics : undefined }),
      ...accountRoutes({
        store,
        sessions,
        log,
        limits,
        dropDevice: (id, why) => registry.drop(id, why),
        notifier,
      }),
      ...bridgeRoutes({
        store,
        sessions,
        log,
        bridges: config.bridges,
        dropDevice: (id, why) => registry.drop(id, why),
      }),
      ...blobRoutes({
        files: blobFiles,
        store,
        sessions,
        log,
        maxFileBytes: config.maxFileBytes,
        quota: { accountBytes: config.maxAccountFileBytes, totalBytes: config.maxFilesBytes },
      }),
      ...linkRoutes({
        store,
        sessions,
        log,
        claimsPerMinute: limits.loginAttemptsPerMinute,
        devicesPerAccount: limits.devicesPerAccount,
        notifier,
      }),
    ],
    fallback: ({ req, res }) => staticFiles.serve(req, res),
    log,
    trustProxy: config.trustProxy,
    maxJsonBytes: limits.maxFrameBytes,
    hsts: tls !== undefined,
  });
  const serverOptions = httpTimeoutOptions(config.timeouts);
  const httpServer: Server = tls
    ? createHttpsServer({ ...serverOptions, ...tls }, handle)
    : createHttpServer(serverOptions, handle);
  const webSockets = acceptWebSockets(httpServer, {
    limits,
    timeouts: config.timeouts,
    trustProxy: config.trustProxy,
    service,
    store,
    sessions,
    registry,
    log,
    metrics,
  });
  openSockets = webSockets.sockets;

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

  const pruning = startSeenPruning({ store, log });
  const retention = startRetention({
    store,
    log,
    retentionDays: config.retentionDays,
    blobs: blobFiles,
    signedOut: (ids, why) => registry.signedOut(ids, why),
  });
  return {
    url,
    port,
    store,
    close: async () => {
      pruning.close();
      metrics.stop();
      retention.close();
      await push.waker?.close();
      webSockets.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await store.close();
      log.info("server.stopped", {});
    },
  };
}
