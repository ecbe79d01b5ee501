import type { ServerOptions } from "node:http";
import type { Timeouts } from "./config.ts";

/**
 * node:http options that close slow or silent HTTP clients (slowloris): the headers and the whole
 * request must arrive within `requestS`, and the check runs often enough to honour short limits.
 */
export function httpTimeoutOptions(t: Timeouts): ServerOptions {
  const ms = t.requestS * 1000;
  return {
    headersTimeout: ms,
    requestTimeout: ms,
    keepAliveTimeout: Math.min(5000, ms),
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(ms / 4))),
  };
}
