import type { ServerOptions } from "node:http";
import type { WebSocket } from "ws";
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

/**
 * Closes a WebSocket whose peer went silent (a half-open connection after a network change, or a client
 * that stopped reading): after half of `idleS` without any frame it is pinged, and it is terminated
 * when neither a pong nor a frame came within the other half. Returns the function that stops watching.
 */
export function watchIdle(ws: WebSocket, idleS: number): () => void {
  let heard = true;
  const mark = (): void => {
    heard = true;
  };
  ws.on("pong", mark);
  ws.on("message", mark);
  const timer = setInterval(
    () => {
      if (!heard) {
        ws.terminate();
        return;
      }
      heard = false;
      ws.ping();
    },
    (idleS * 1000) / 2,
  );
  return () => {
    clearInterval(timer);
    ws.off("pong", mark);
    ws.off("message", mark);
  };
}
