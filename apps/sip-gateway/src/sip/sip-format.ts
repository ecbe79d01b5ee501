import { randomBytes } from "node:crypto";
import { reasonPhrase } from "./reason-phrases.ts";
import type { SipParseFailure, SipRequest } from "./sip-message.ts";

/** Where a message came from: responses go back there (RFC 3261 §18.2.2, RFC 3581). */
export type SipSource = {
  address: string;
  port: number;
  transport: "UDP" | "TCP" | "TLS";
  /**
   * A connection of the gateway's own over TLS: the name the peer's certificate must show (the
   * URI's host, when it is a name rather than an address), also sent as SNI.
   */
  serverName?: string;
};

export type ResponseOptions = {
  /** The To tag of the dialog (or of a final response outside one); kept if the request had one. */
  toTag?: string;
  headers?: readonly (readonly [string, string])[];
  body?: string;
  contentType?: string;
};

const SERVER = "Sori SIP gateway";

/** A response to `req`, with its Via, From, To, Call-ID and CSeq copied as RFC 3261 §8.2.6 says. */
export function formatResponse(
  req: SipRequest,
  source: SipSource,
  status: number,
  options: ResponseOptions = {},
): string {
  const to = headerOf(req, "To");
  const hasTag = req.to.params.tag !== undefined;
  const lines = [`SIP/2.0 ${status} ${reasonPhrase(status)}`];
  req.via.forEach((v, i) =>
    lines.push(`Via: ${i === 0 ? receivedVia(v.raw, v.host, v.rport, source) : v.raw}`),
  );
  lines.push(`From: ${headerOf(req, "From")}`);
  // Every response but 100 carries a To tag (RFC 3261 §8.2.6.2); outside a dialog any fresh one does.
  const toTag = options.toTag ?? randomBytes(6).toString("hex");
  lines.push(`To: ${!hasTag && status > 100 ? `${to};tag=${toTag}` : to}`);
  lines.push(`Call-ID: ${req.callId}`);
  lines.push(`CSeq: ${req.cseq.seq} ${req.cseq.method}`);
  return finish(lines, options);
}

/**
 * The refusal of a message that could not be taken (400, or the failure's 416 or 505; `status` 513
 * for one too large, 501 for an unknown method), if it carried enough to answer: a Via naming where
 * it came from, and a CSeq.
 */
export function formatBadRequest(
  f: SipParseFailure,
  source: SipSource,
  status: number = f.status,
  headers: readonly (readonly [string, string])[] = [],
): string | undefined {
  if (!f.isRequest || f.method === "ACK") return undefined;
  const vias = f.echo.filter(([n]) => n === "Via");
  if (vias.length === 0 || !f.echo.some(([n]) => n === "CSeq")) return undefined;
  // The fault in the reason phrase too, when it is why this status is sent: many phones show or log
  // the status line alone. (A 501 or 513 has a reason of its own.)
  const phrase =
    status === f.status ? `${reasonPhrase(status)} (${asReasonPhrase(f.reason)})` : reasonPhrase(status);
  const lines = [`SIP/2.0 ${status} ${phrase}`];
  vias.forEach(([, v], i) =>
    lines.push(`Via: ${i === 0 ? receivedVia(v, undefined, /;\s*rport/i.test(v), source) : v}`),
  );
  for (const [name, value] of f.echo) if (name !== "Via") lines.push(`${name}: ${value}`);
  // The reason travels in a Warning (RFC 3261 §20.43, code 399: miscellaneous), never the message itself.
  // eslint-disable-next-line no-control-regex -- a reason quotes the message: no control bytes go back
  lines.push(`Warning: 399 sori "${f.reason.replace(/["\\\x00-\x1f\x7f]/g, "")}"`);
  return finish(lines, { headers });
}

/** Only what RFC 3261 §25.1's Reason-Phrase allows (reserved, unreserved, SP, UTF-8), at most 100. */
function asReasonPhrase(text: string): string {
  return text.replace(/[^A-Za-z0-9;/?:@&=+$,\-_.!~*'() \u0080-\uffff]/g, "").slice(0, 100);
}

export type RequestParts = {
  method: string;
  uri: string;
  headers: readonly (readonly [string, string])[];
  body?: string;
  contentType?: string;
};

/** A request as text; the caller supplies Via, From, To, Call-ID, CSeq and the rest. */
export function formatRequest(r: RequestParts): string {
  return finish([`${r.method} ${r.uri} SIP/2.0`], r);
}

function finish(lines: string[], options: ResponseOptions | RequestParts): string {
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  if (!(options.headers ?? []).some(([n]) => n === "Server" || n === "User-Agent"))
    lines.push(`Server: ${SERVER}`);
  const body = options.body ?? "";
  if (body) lines.push(`Content-Type: ${options.contentType ?? "application/sdp"}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body, "utf8")}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** The top Via with `received` and `rport` filled in from where the request really came from. */
function receivedVia(raw: string, host: string | undefined, rport: boolean, source: SipSource): string {
  let v = raw.replace(/;\s*rport(?=\s*(;|$))/i, rport ? `;rport=${source.port}` : ";rport");
  if (host !== source.address && !/;\s*received=/i.test(v)) v += `;received=${source.address}`;
  return v;
}

function headerOf(req: SipRequest, name: string): string {
  return req.headers.find(([n]) => n === name)?.[1] ?? "";
}
