import { type HealthResponse, PROTOCOL_VERSION } from "@sori/protocol";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../server-metrics.ts";
import type { Store, StoreStats } from "../store/store.ts";
import type { Route } from "./router.ts";

/** The server's version, as /healthz reports it. */
export const SERVER_VERSION = "0.1.0";

/** A store that has not answered a read within this long is reported unhealthy. */
const HEALTH_TIMEOUT_MS = 2000;

/** The store's figures, or undefined if it does not answer in time (it is then unhealthy). */
async function storeStats(store: Pick<Store, "stats">): Promise<StoreStats | undefined> {
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
}

/** `GET /healthz` (the store answers and is writable) and, unless disabled, `GET /metrics`. */
export function healthRoutes(options: {
  store: Pick<Store, "stats">;
  log: Logger;
  /** Absent when /metrics is switched off (`--metrics off`). */
  metrics: ServerMetrics | undefined;
}): Route[] {
  const { store, log, metrics } = options;
  const routes: Route[] = [
    {
      method: "GET",
      path: "/healthz",
      handle: async (ctx) => {
        const stats = await storeStats(store);
        const state = stats === undefined ? "unavailable" : stats.writable ? "ok" : "read-only";
        const ok = state === "ok";
        if (!ok) log.warn("health.store_unavailable", { store: state });
        ctx.json(ok ? 200 : 503, {
          ok,
          version: SERVER_VERSION,
          protocol: PROTOCOL_VERSION,
          store: state,
        } satisfies HealthResponse);
      },
    },
  ];
  if (metrics) {
    routes.push({
      method: "GET",
      path: "/metrics",
      handle: async ({ res }) => {
        const text = metrics.render(await storeStats(store));
        res.writeHead(200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        });
        res.end(text);
      },
    });
  }
  return routes;
}
