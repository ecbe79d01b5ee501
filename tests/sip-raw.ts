import { createHash } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";

/** Sends each datagram to the gateway and collects the final answers (1xx skipped), bounded in time. */
export async function rawExchange(port: number, messages: string[]): Promise<string[]> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const answers: string[] = [];
  try {
    for (const m of messages) {
      const got = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no answer from the gateway")), 5000);
        const on = (data: Buffer): void => {
          const text = data.toString();
          if (/^SIP\/2.0 1\d\d/.test(text)) return;
          clearTimeout(timer);
          socket.off("message", on);
          resolve(text);
        };
        socket.on("message", on);
      });
      socket.send(m, port, "127.0.0.1");
      answers.push(await got);
    }
  } finally {
    socket.close();
  }
  return answers;
}

/**
 * Sends one datagram of any bytes (RFC 4475's messages are not all text) from a socket of its own
 * and collects the final answers that come back within `windowMs`: 1xx skipped, a retransmitted
 * answer counted once. Nothing back is an empty list. The socket closes after the window.
 */
export async function rawDatagramAnswers(
  port: number,
  data: Uint8Array,
  windowMs: number,
): Promise<string[]> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const answers = new Set<string>();
  socket.on("message", (d: Buffer) => {
    const text = d.toString();
    if (!/^SIP\/2.0 1\d\d/.test(text)) answers.add(text);
  });
  try {
    socket.send(data, port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, windowMs));
  } finally {
    socket.close();
  }
  return [...answers];
}

let counter = 0;

/** A request as a phone would write it (a fresh branch each time). */
export function sipRequest(o: {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  headers?: [string, string][];
  body?: string;
  /** Inside a dialog: the phone's From tag stays the same (else a fresh one per request). */
  fromTag?: string;
  /** An ACK of a non-2xx answer goes on its INVITE's branch (RFC 3261 §17.1.1.3). */
  branch?: string;
}): string {
  const body = o.body ?? "";
  const branch = `z9hG4bKraw${Date.now()}x${counter++}`;
  const lines = [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=${o.branch ?? branch}`,
    "Max-Forwards: 70",
    `From: ${o.from};tag=${o.fromTag ?? `raw${counter}`}`,
    `To: ${o.to}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${o.method}`,
    ...(o.headers ?? []).map(([n, v]) => `${n}: ${v}`),
    ...(body ? ["Content-Type: application/sdp"] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** The challenges of a 401/407, per algorithm: realm and nonce. */
export function challenges(answer: string): { algorithm: string; realm: string; nonce: string }[] {
  return [...answer.matchAll(/^(?:WWW|Proxy)-Authenticate: Digest (.*)$/gim)].map((m) => {
    const p = m[1]!;
    return {
      algorithm: /algorithm=([\w-]+)/.exec(p)?.[1] ?? "MD5",
      realm: /realm="([^"]*)"/.exec(p)?.[1] ?? "",
      nonce: /nonce="([^"]*)"/.exec(p)?.[1] ?? "",
    };
  });
}

/** A digest credentials value (RFC 7616, qop=auth) answering one challenge. */
export function digestCredentials(o: {
  algorithm: "MD5" | "SHA-256";
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  username: string;
  password: string;
  nc?: number;
}): string {
  const h = (s: string): string =>
    createHash(o.algorithm === "MD5" ? "md5" : "sha256")
      .update(s)
      .digest("hex");
  const nc = (o.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = "0a4f113b";
  const response = h(
    `${h(`${o.username}:${o.realm}:${o.password}`)}:${o.nonce}:${nc}:${cnonce}:auth:${h(`${o.method}:${o.uri}`)}`,
  );
  return (
    `Digest username="${o.username}", realm="${o.realm}", nonce="${o.nonce}", uri="${o.uri}", ` +
    `response="${response}", algorithm=${o.algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`
  );
}

/**
 * A phone's SIP socket for a whole dialog on 127.0.0.1: every message that arrives is kept until a
 * test takes it, and the gateway's BYE is answered 200 (as any phone would).
 */
export class RawSipSocket {
  readonly #socket: Socket;
  readonly #inbox: string[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("message", (data, from) => {
      const text = data.toString();
      if (text.startsWith("BYE ")) {
        const echo = ["Via", "From", "To", "Call-ID", "CSeq"].map(
          (n) => `${n}: ${new RegExp(`^${n}: (.*)$`, "mi").exec(text)?.[1] ?? ""}`,
        );
        socket.send(
          `SIP/2.0 200 OK\r\n${echo.join("\r\n")}\r\nContent-Length: 0\r\n\r\n`,
          from.port,
          from.address,
        );
      }
      this.#inbox.push(text);
      this.#wake?.();
    });
  }

  static async open(): Promise<RawSipSocket> {
    const socket = createSocket("udp4");
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
    return new RawSipSocket(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  send(text: string, port: number): void {
    this.#socket.send(text, port, "127.0.0.1");
  }

  /** Waits (bounded) for the first message not yet taken that `match`es, and takes it. */
  async next(match: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#inbox.findIndex(match);
      if (i >= 0) return this.#inbox.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no such message (got ${this.#inbox.map((m) => m.split("\r\n")[0]).join("; ") || "none"})`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#socket.close();
  }
}
