import { MAX_SIP_MESSAGE_BYTES } from "../sip/sip-message.ts";

/** What a chunk of a TCP or TLS stream turned into, in order. */
export type StreamEvent =
  /** One whole message (head and exactly Content-Length bytes of body), as bytes: a body may be binary. */
  | { kind: "message"; bytes: Buffer }
  /** An RFC 5626 keep-alive ping (a double CRLF between messages): answer with one CRLF. */
  | { kind: "ping" }
  /**
   * The stream cannot be framed any further: answer `status` if `head` can be answered, then close.
   * (After a broken message there is no telling where the next one starts.)
   */
  | { kind: "fatal"; reason: string; status: 400 | 513 | undefined; head: string | undefined };

const CRLF = 0x0d0a;
const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Splits a SIP stream into messages (RFC 3261 §18.3): each ends after its head plus the
 * Content-Length its head declares, which is mandatory on a stream. The buffer never holds more
 * than one message of MAX_SIP_MESSAGE_BYTES (plus the chunk that overflowed it). Pure: the
 * transport feeds it bytes and acts on what it returns.
 */
export class StreamFramer {
  #buffer: Buffer = Buffer.alloc(0);
  #dead = false;
  readonly #maxBytes: number;

  constructor(maxBytes = MAX_SIP_MESSAGE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes buffered, waiting for the rest of a message. */
  get buffered(): number {
    return this.#buffer.length;
  }

  push(chunk: Buffer): StreamEvent[] {
    if (this.#dead) return [];
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const events: StreamEvent[] = [];
    for (;;) {
      // CRLFs between messages: a double one is a ping (RFC 5626 §4.4.1), a single one is a pong or
      // noise that RFC 3261 §7.5 says to ignore.
      let crlfs = 0;
      while (this.#buffer.length >= 2 && this.#buffer.readUInt16BE(0) === CRLF) {
        this.#buffer = this.#buffer.subarray(2);
        crlfs++;
        if (crlfs === 2) {
          events.push({ kind: "ping" });
          crlfs = 0;
        }
      }
      if (this.#buffer.length === 0) return events;
      const headEnd = this.#buffer.indexOf(HEAD_END);
      if (headEnd < 0) {
        if (this.#buffer.length > this.#maxBytes)
          return this.#fatal(events, "message head too large", undefined);
        return events;
      }
      const head = this.#buffer.subarray(0, headEnd).toString("utf8");
      if (headEnd + 4 > this.#maxBytes) return this.#fatal(events, "message too large", undefined);
      const length = contentLength(head);
      if (typeof length === "string") return this.#fatal(events, length, head, 400);
      const total = headEnd + 4 + length;
      if (total > this.#maxBytes) return this.#fatal(events, "message too large", head, 513);
      if (this.#buffer.length < total) return events;
      // Copies: neither the message nor the rest may pin the chunk they came in.
      events.push({ kind: "message", bytes: Buffer.from(this.#buffer.subarray(0, total)) });
      this.#buffer = Buffer.from(this.#buffer.subarray(total));
    }
  }

  #fatal(events: StreamEvent[], reason: string, head: string | undefined, status?: 400 | 513): StreamEvent[] {
    this.#dead = true;
    this.#buffer = Buffer.alloc(0);
    events.push({ kind: "fatal", reason, status, head });
    return events;
  }
}

/** The Content-Length of a head (long or compact name, folded lines aside), or why there is none. */
function contentLength(head: string): number | string {
  const values = head
    .split(/\r?\n/)
    .slice(1)
    .map((line) => /^(?:content-length|l)[ \t]*:(.*)$/i.exec(line)?.[1]?.trim())
    .filter((v): v is string => v !== undefined);
  if (values.length === 0) return "missing Content-Length (mandatory on a stream)";
  if (values.length > 1 || !/^\d{1,9}$/.test(values[0]!)) return "malformed Content-Length";
  return Number(values[0]);
}
