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

/** Starts the HTTP API and WebSocket endpoint on one port, backed by the embedded SQLite store. */
export async function startServer(config: ServerConfig, logger?: Logger): Promise<RunningServer> {
  const log = logger ?? createLogger(config.logLevel);
  const { limits } = config;
  // Read before anything else starts, so a bad path fails the start cleanly.
  const tls = config.tlsCert && config.tlsKey ? readTlsFiles(config.tlsCert, config.tlsKey) : undefined;
  const store = await openStore(config);
  const registry = new ConnectionRegistry(limits.connectionsPerAccount);
  const sessions = new Sessions(store, config.sessionTtlDays);
  const staticFiles = createStaticFiles({ webDir: config.webDir, log });
  const blobFiles = new BlobFiles(config.dataDir);
  // Assigned once the WebSocket endpoint exists; read only at scrape time.
  let openSockets = (): number => 0;
  const metrics = new ServerMetrics({
    sockets: () => openSockets(),
    devices: () => registry.devices,
    unackedDeliveries: () => registry.unacked(),
  });
  const service = new DeliveryService({
    store,
    limits,
    log,
    notifier: registry,
    turn: config.turn,
    retentionDays: config.retentionDays,
    gateways: config.gateways,
    bridges: config.bridges,
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
        notifier: registry,
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
        notifier: registry,
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
      webSockets.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await store.close();
      log.info("server.stopped", {});
    },
  };
}
