import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

/** A frame as JSON (the protocol's text frames). */
export type ProxyFrame = Record<string, unknown>;

/**
 * What the proxy does with a frame on its way. Return the frames to pass on instead (none drops it,
 * several inject or release held ones). `link` names the connection (one per client WebSocket, in
 * the order they opened), so a test can treat one device differently from another.
 */
export type FrameRewriter = (frame: ProxyFrame, link: ProxyLink) => ProxyFrame[];

export type ProxyLink = {
  /** 0, 1, 2, … in the order the clients connected. */
  index: number;
  /** The device this connection authenticated as, once the server answered its auth. */
  deviceId: string | undefined;
  /** Sends a frame to the client now (e.g. one held back earlier). */
  toClient(frame: ProxyFrame): void;
};

export type HostileProxy = {
  /** What clients use as the server URL. */
  url: string;
  /** Rewrites frames the server sends to clients. */
  fromServer: FrameRewriter;
  /** Rewrites frames clients send to the server. */
  fromClient: FrameRewriter;
  close(): Promise<void>;
};

/**
 * A man in the middle between Sori clients and a real server, playing a server that misbehaves: HTTP
 * requests are passed through, WebSocket frames through the two rewriters (by default unchanged). It
 * holds nothing the real server does not: whatever it does, the server could do too.
 */
export async function startHostileProxy(target: string): Promise<HostileProxy> {
  const sockets = new Set<WebSocket>();
  const raw = new Set<Socket>();
  const proxy: HostileProxy = {
    url: "",
    fromServer: (f) => [f],
    fromClient: (f) => [f],
    close: async () => undefined,
  };
  const http: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === "string" && k !== "host" && k !== "content-length") headers[k] = v;
      const answer = await fetch(new URL(req.url ?? "/", target), {
        method: req.method ?? "GET",
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  http.on("connection", (s) => {
    raw.add(s);
    s.once("close", () => raw.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true });
  let links = 0;
  http.on("upgrade", (req: IncomingMessage, socket, head) => {
    wss.handleUpgrade(req, socket, head, (client) => {
      const upstream = new WebSocket(new URL(req.url ?? "/", target.replace(/^http/, "ws")));
      sockets.add(client);
      sockets.add(upstream);
      const link: ProxyLink = {
        index: links++,
        deviceId: undefined,
        toClient: (f) => {
          if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(f));
        },
      };
      const early: string[] = [];
      client.on("message", (data) => {
        const text = String(data);
        if (upstream.readyState !== WebSocket.OPEN) early.push(text);
        else
          for (const f of proxy.fromClient(JSON.parse(text) as ProxyFrame, link))
            upstream.send(JSON.stringify(f));
      });
      upstream.on("open", () => {
        for (const text of early.splice(0))
          for (const f of proxy.fromClient(JSON.parse(text) as ProxyFrame, link))
            upstream.send(JSON.stringify(f));
      });
      upstream.on("message", (data) => {
        const frame = JSON.parse(String(data)) as ProxyFrame;
        const result = frame.result as { deviceId?: unknown } | undefined;
        if (frame.type === "result" && link.deviceId === undefined && typeof result?.deviceId === "string")
          link.deviceId = result.deviceId;
        for (const f of proxy.fromServer(frame, link)) link.toClient(f);
      });
      const end = (): void => {
        client.terminate();
        upstream.terminate();
      };
      client.on("close", end);
      upstream.on("close", end);
      client.on("error", end);
      upstream.on("error", end);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  proxy.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  proxy.close = async () => {
    for (const s of sockets) s.terminate();
    for (const s of raw) s.destroy();
    wss.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return proxy;
}
