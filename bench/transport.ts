import { WebSocket as WsSocket } from "ws";

/** Which WebSocket client the load clients use: the `ws` package or Node's built-in (undici) one. */
export type TransportKind = "ws" | "native";

/** The little of a WebSocket a load client needs, so both client libraries can be compared. */
export type Transport = {
  send(text: string): void;
  close(): void;
  /** Bytes queued in the client but not yet written to the socket. */
  bufferedAmount(): number;
};

export type TransportHandlers = {
  onText(text: string): void;
  onClose(code: number, reason: string): void;
};

/** Opens a WebSocket; resolves once open, rejects on error or after timeoutMs. */
export function openTransport(
  kind: TransportKind,
  url: string,
  handlers: TransportHandlers,
  timeoutMs: number,
): Promise<Transport> {
  return kind === "ws" ? openWs(url, handlers, timeoutMs) : openNative(url, handlers, timeoutMs);
}

function openWs(url: string, handlers: TransportHandlers, timeoutMs: number): Promise<Transport> {
  // The server sends valid UTF-8 JSON; skipping validation keeps client CPU (shared with the server) down.
  const ws = new WsSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  return new Promise<Transport>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("open", () => {
      clearTimeout(timer);
      resolve({
        send: (text) => ws.send(text),
        close: () => ws.terminate(),
        bufferedAmount: () => ws.bufferedAmount,
      });
    });
    ws.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on("message", (data, isBinary) => {
      if (!isBinary) handlers.onText((data as Buffer).toString("utf8"));
    });
    ws.on("close", (code, reason) => handlers.onClose(code, reason.toString("utf8")));
  });
}

function openNative(url: string, handlers: TransportHandlers, timeoutMs: number): Promise<Transport> {
  const ws = new globalThis.WebSocket(url);
  return new Promise<Transport>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`WebSocket did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve({
        send: (text) => ws.send(text),
        close: () => ws.close(),
        bufferedAmount: () => ws.bufferedAmount,
      });
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error("WebSocket error"));
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") handlers.onText(event.data);
    };
    ws.onclose = (event) => handlers.onClose(event.code, event.reason);
  });
}
