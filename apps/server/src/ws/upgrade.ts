import type { Server } from "node:http";
import type { Socket } from "node:net";
import { type Limits, ProtocolError, WS_PATH } from "@sori/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { clientAddress } from "../client-address.ts";
import type { Timeouts } from "../config.ts";
import { Connection, type ConnectionHooks } from "../connection.ts";
import type { ConnectionRegistry } from "../connection-registry.ts";
import type { DeliveryService } from "../delivery-service.ts";
import { errorBody } from "../http/responses.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../server-metrics.ts";
import type { Sessions } from "../sessions.ts";
import type { Store } from "../store/store.ts";
import { AddressSlots } from "./address-slots.ts";
import { startHeartbeat } from "./heartbeat.ts";

/** What a WebSocket connection is built from. */
export type WebSocketOptions = {
  limits: Limits;
  timeouts: Timeouts;
  trustProxy: boolean;
  service: DeliveryService;
  store: Store;
  sessions: Sessions;
  registry: ConnectionRegistry;
  log: Logger;
  metrics: ServerMetrics;
};

/** The WebSocket endpoint once it accepts upgrades. */
export type WebSocketEndpoint = {
  /** Open sockets, authenticated or not. */
  sockets(): number;
  /** Terminates every socket and stops the heartbeat. */
  close(): void;
};

type Attach = {
  hooks: ConnectionHooks;
  heard: (ws: WebSocket) => void;
  options: WebSocketOptions;
};

/**
 * Accepts WebSocket upgrades on WS_PATH. Admission: a socket that has not authenticated yet holds one
 * of its address's few slots (`unauthenticatedPerAddress`), since it costs memory and a file until
 * the auth timeout; past them the upgrade gets a 429. An authenticated one counts against its
 * account's connections (ConnectionRegistry).
 */
export function acceptWebSockets(server: Server, options: WebSocketOptions): WebSocketEndpoint {
  const { limits, timeouts, store, sessions, registry } = options;
  // ws enforces a hard cap far above our limit, so a frame between the two gets a typed
  // "too-large" error frame instead of a dropped connection.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes * 4,
    perMessageDeflate: false,
  });
  const heartbeat = startHeartbeat(wss, (timeouts.idleS * 1000) / 2);
  const attach: Attach = {
    hooks: {
      authenticate: (token) => sessions.authenticate(token),
      attach: (conn) => {
        const refused = registry.attach(conn);
        if (!refused) void store.touchDevice(conn.caller!.deviceId, Date.now()).catch(() => undefined);
        return refused;
      },
      detach: (conn) => registry.detach(conn),
      ready: (conn) => registry.ready(conn),
    },
    heard: heartbeat.heard,
    options,
  };
  const unauthenticated = new AddressSlots(limits.unauthenticatedPerAddress);

  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== WS_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    const address = clientAddress(req, options.trustProxy);
    if (!unauthenticated.take(address)) {
      const retryAfterS = timeouts.authS;
      const body = errorBody(
        new ProtocolError(
          "rate-limited",
          `too many connections from this address are waiting to authenticate; retry in ${retryAfterS} s`,
          { retryAfterS },
        ),
      );
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
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => attachSocket(ws, address, releaseSlot, attach));
  });

  return {
    sockets: () => wss.clients.size,
    close: () => {
      heartbeat.stop();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/**
 * Makes the Connection of an upgraded socket. A function of its own, outside the upgrade handler:
 * closures made there would keep its context, and with it the upgrade request (headers, parser
 * state), alive for as long as the connection lasts.
 */
function attachSocket(ws: WebSocket, address: string, authenticated: () => void, attach: Attach): void {
  const { options, heard } = attach;
  const { limits, timeouts, metrics } = options;
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
    options.service,
    options.store,
    attach.hooks,
    options.log,
    {
      window: limits.deliveryWindow,
      maxFrameBytes: limits.maxFrameBytes,
      maxInFlight: limits.requestsInFlight,
      authTimeoutMs: timeouts.authS * 1000,
      address,
      metrics,
    },
  );
  heard(ws);
  ws.on("pong", () => heard(ws));
  ws.on("message", (data, isBinary) => {
    heard(ws);
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
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
    // Until it authenticates the socket holds one of its address's slots (see acceptWebSockets).
    if (!conn.caller)
      void done.then(() => {
        if (conn.caller) authenticated();
      });
  });
  ws.on("close", () => conn.closed());
  ws.on("error", () => conn.closed());
}
