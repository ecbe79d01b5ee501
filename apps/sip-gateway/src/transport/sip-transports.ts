import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect as netConnect, createServer as netServer, type Server, type Socket } from "node:net";
import { rootCertificates, connect as tlsConnect, createServer as tlsServer } from "node:tls";
import type { Logger } from "@sori/server";
import { MAX_SIP_MESSAGE_BYTES } from "../sip/sip-message.ts";
import type { SipSource } from "../sip/sip-format.ts";
import { type ConnectionKey, type ConnectionLimits, ConnectionRegistry } from "./connection-registry.ts";
import { StreamFramer } from "./stream-framer.ts";

/** One address the gateway takes SIP on. Port 0: any free port. */
export type SipListen = { transport: "udp" | "tcp" | "tls"; address: string; port: number };

/** What the transports hand up: whole messages, and streams that broke. */
type SipTransportHandler = {
  /** The bytes of one message (a datagram, or framed off a stream): parsed as bytes, bodies may be binary. */
  message(data: Buffer, source: SipSource): void;
  /** A connection failed (refused, reset, timed out): what was sent over it gets no answer. */
  failed(peer: SipSource): void;
  /** A stream cannot be framed any more: the answer to write before it is closed, if one can be made. */
  unframable(
    head: string | undefined,
    reason: string,
    status: 400 | 513 | undefined,
    source: SipSource,
  ): string | undefined;
};

export type SipTransportOptions = {
  listen: readonly SipListen[];
  /** PEM certificate chain and key, for tls listeners (and nothing else). */
  tls?: { cert: string; key: string };
  /** PEM CA certificates the gateway's own TLS connections trust, besides Node's (a private CA). */
  trustedCa?: string;
  limits?: Partial<ConnectionLimits>;
  handler: SipTransportHandler;
  log: Logger;
};

/** The listeners behind one interface: `send` picks UDP or the connection a source names. */
export type SipTransports = {
  /** The bound port of each transport listened on. */
  readonly ports: { udp?: number; tcp?: number; tls?: number };
  send(text: string, to: SipSource): void;
  /** Keep the stream `source` came on open until `at` (a phone registered over it). */
  keepUntil(source: SipSource, at: number): void;
  stats(): { connections: number; connectionsRefused: number };
  close(): Promise<void>;
};

/** A TCP or TLS connection with its framing. */
type Stream = { socket: Socket; close(): void };

/** RFC 5626 §4.4.1 suggests 95–120 s between CRLF pings; an idle stream lives a little longer. */
const DEFAULT_IDLE_MS = 150_000;
const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_MAX_PER_ADDRESS = 64;
/** A TLS handshake that takes longer is a slow-loris, not a phone. */
const TLS_HANDSHAKE_MS = 10_000;
/** Bytes queued for a peer that does not read: past this the connection is dropped. */
const MAX_QUEUED_BYTES = 16 * MAX_SIP_MESSAGE_BYTES;

/** The listeners start together; any that cannot bind stops them all (with the error). */
export async function openSipTransports(o: SipTransportOptions): Promise<SipTransports> {
  const registry = new ConnectionRegistry<Stream>({
    idleMs: o.limits?.idleMs ?? DEFAULT_IDLE_MS,
    maxTotal: o.limits?.maxTotal ?? DEFAULT_MAX_CONNECTIONS,
    maxPerAddress: o.limits?.maxPerAddress ?? DEFAULT_MAX_PER_ADDRESS,
  });
  const idleMs = o.limits?.idleMs ?? DEFAULT_IDLE_MS;
  let udp: UdpSocket | undefined;
  const servers: Server[] = [];
  const ports: { udp?: number; tcp?: number; tls?: number } = {};
  let refused = 0;
  let closing = false;

  const attach = (socket: Socket, key: ConnectionKey): Stream => {
    const framer = new StreamFramer();
    const source: SipSource = { ...key };
    const stream: Stream = { socket, close: () => socket.destroy() };
    socket.on("data", (chunk: Buffer) => {
      for (const e of framer.push(chunk)) {
        if (e.kind === "message") {
          registry.touch(key, Date.now());
          o.handler.message(e.bytes, source);
        } else if (e.kind === "ping") {
          registry.touch(key, Date.now());
          socket.write("\r\n");
        } else {
          o.log.debug("sip-stream-unframable", {
            from: key.address,
            transport: key.transport,
            reason: e.reason,
          });
          const answer = o.handler.unframable(e.head, e.reason, e.status, source);
          registry.remove(key, stream);
          if (answer) socket.end(answer);
          else socket.destroy();
          // A peer that never reads the 400 must not keep the socket.
          setTimeout(() => socket.destroy(), 2000).unref();
          return;
        }
      }
    });
    socket.on("error", (err) => {
      o.log.debug("sip-stream-error", { transport: key.transport, message: err.message });
      o.handler.failed(source);
    });
    socket.on("close", () => registry.remove(key, stream));
    return stream;
  };

  const accept = (transport: "TCP" | "TLS") => (socket: Socket) => {
    const key: ConnectionKey = {
      transport,
      address: plainAddress(socket.remoteAddress ?? ""),
      port: socket.remotePort ?? 0,
    };
    if (closing || !key.port) return socket.destroy();
    const stream = attach(socket, key);
    const refusal = registry.admit(key, stream, Date.now());
    if (refusal) {
      refused++;
      o.log.debug("sip-connection-refused", { from: key.address, transport, cap: refusal });
      socket.destroy();
    }
  };

  try {
    for (const l of o.listen) {
      if (l.transport === "udp") {
        if (udp) throw new SipTransportError("more than one udp listener");
        const socket = createSocket({ type: l.address.includes(":") ? "udp6" : "udp4" });
        udp = socket;
        await listening(socket, (done) => socket.bind(l.port, l.address, done));
        socket.on("error", (e) => o.log.warn("sip-socket-error", { message: e.message }));
        socket.on("message", (data, rinfo) => {
          if (data.length > MAX_SIP_MESSAGE_BYTES) return;
          // Keep-alives (RFC 5626 CRLF pings) are not messages.
          if (data.every((b) => b === 0x0d || b === 0x0a || b === 0x20 || b === 0x09)) return;
          o.handler.message(data, { address: rinfo.address, port: rinfo.port, transport: "UDP" });
        });
        ports.udp = socket.address().port;
        continue;
      }
      if (ports[l.transport] !== undefined)
        throw new SipTransportError(`more than one ${l.transport} listener`);
      let server: Server;
      if (l.transport === "tls") {
        if (!o.tls) throw new SipTransportError("a tls listener needs a certificate and key");
        server = tlsServer({ cert: o.tls.cert, key: o.tls.key, handshakeTimeout: TLS_HANDSHAKE_MS });
        server.on("secureConnection", accept("TLS"));
        server.on("tlsClientError", (e: Error) => o.log.debug("sip-tls-error", { message: e.message }));
      } else {
        server = netServer(accept("TCP"));
      }
      server.maxConnections = (o.limits?.maxTotal ?? DEFAULT_MAX_CONNECTIONS) + 16;
      servers.push(server);
      await listening(server, (done) => server.listen(l.port, l.address, done));
      server.on("error", (e) =>
        o.log.warn("sip-listener-error", { transport: l.transport, message: e.message }),
      );
      const address = server.address();
      ports[l.transport] = typeof address === "object" && address ? address.port : l.port;
    }
  } catch (error) {
    udp?.close();
    for (const s of servers) s.close();
    throw error;
  }

  const sweeper = setInterval(() => registry.sweep(Date.now()), Math.max(250, Math.min(idleMs / 2, 10_000)));
  sweeper.unref();

  /** A connection of ours to `to` (RFC 3261 §18.1.1: used for every request to that peer after). */
  const open = (to: SipSource & { transport: "TCP" | "TLS" }): Stream | undefined => {
    const socket =
      to.transport === "TLS"
        ? // The peer's certificate is verified, against the name dialled (a resolved address would
          // never match a trunk's certificate), by Node's CAs and any the operator added.
          tlsConnect({
            host: to.address,
            port: to.port,
            ...(serverNameOf(to) ? { servername: serverNameOf(to) } : {}),
            ...(o.trustedCa ? { ca: [...rootCertificates, o.trustedCa] } : {}),
          })
        : netConnect({ host: to.address, port: to.port });
    const key: ConnectionKey = { transport: to.transport, address: to.address, port: to.port };
    const stream = attach(socket, key);
    const refusal = registry.admit(key, stream, Date.now());
    if (refusal) {
      refused++;
      socket.destroy();
      return undefined;
    }
    return stream;
  };

  return {
    ports,
    send(text, to) {
      if (to.transport === "UDP") {
        if (!udp) return o.log.debug("sip-send-no-udp", {});
        udp.send(text, to.port, to.address);
        return;
      }
      if (closing) return;
      const stream =
        registry.get({ transport: to.transport, address: to.address, port: to.port }) ??
        open({ ...to, transport: to.transport });
      if (!stream) return o.log.debug("sip-send-refused", { to: to.address });
      if (stream.socket.writableLength > MAX_QUEUED_BYTES) {
        o.log.debug("sip-stream-stalled", { to: to.address });
        return stream.close();
      }
      // Writes before the connection is up are queued by node and go out once it is.
      stream.socket.write(text);
    },
    keepUntil(source, at) {
      if (source.transport !== "UDP")
        registry.keepUntil({ transport: source.transport, address: source.address, port: source.port }, at);
    },
    stats: () => ({ connections: registry.size, connectionsRefused: refused }),
    async close() {
      closing = true;
      clearInterval(sweeper);
      registry.closeAll();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      if (udp) await new Promise<void>((r) => udp!.close(() => r()));
    },
  };
}

/** A listener could not start as asked (the gateway checks its options first: this is a guard). */
class SipTransportError extends Error {
  readonly code = "sip-transport";
  constructor(message: string) {
    super(message);
    this.name = "SipTransportError";
  }
}

function listening(target: UdpSocket | Server, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    target.once("error", reject);
    start(() => {
      target.off("error", reject);
      resolve();
    });
  });
}

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; UDP and registrations use a.b.c.d. */
function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/** The name a TLS peer's certificate is checked against, if not its address (SNI takes no address). */
function serverNameOf(to: SipSource): string | undefined {
  const name = to.serverName ?? to.address;
  return isIp(name) ? undefined : name;
}
