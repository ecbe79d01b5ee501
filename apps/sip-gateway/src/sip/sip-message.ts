import { Grammar } from "sip.js/lib/grammar/grammar.js";

/**
 * Largest SIP message accepted. Real INVITEs are 1–4 KB; parsing is the gateway's most expensive
 * step before any rate limit, so what is larger is dropped unread.
 */
export const MAX_SIP_MESSAGE_BYTES = 16 * 1024;
const MAX_HEADER_LINES = 200;
/** Values per list header that are parsed (each costs a grammar run): more is a 400. */
const MAX_LIST_VALUES: Record<string, number> = { Via: 32, Contact: 8, "Record-Route": 32, Route: 32 };

/** A parsed SIP URI (sip: or sips:). */
export type SipUri = {
  scheme: "sip" | "sips";
  user: string | undefined;
  host: string;
  port: number | undefined;
  params: Record<string, string | null>;
};

/** From, To and Contact: an address with its parameters (tag, expires, …). */
export type NameAddr = {
  displayName: string | undefined;
  uri: SipUri;
  params: Record<string, string | null>;
};

type Via = {
  transport: string;
  host: string;
  port: number | undefined;
  branch: string | undefined;
  /** `;rport` was present (RFC 3581): answer to the source port. */
  rport: boolean;
  /** The header value as received, to be copied into responses. */
  raw: string;
};

type Common = {
  /** Header fields in order, names in their canonical long form, one entry per value. */
  headers: readonly (readonly [string, string])[];
  via: readonly Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: { seq: number; method: string };
  body: string;
};
export type SipRequest = Common & { type: "request"; method: string; uri: SipUri; maxForwards: number };
export type SipResponse = Common & { type: "response"; status: number; reason: string };
export type SipMessage = SipRequest | SipResponse;

/**
 * Why a message was refused, and what of it can still be echoed in a 400: the raw Via, From, To,
 * Call-ID and CSeq values that were present (a response needs them; without a Via none can be sent).
 */
export type SipParseFailure = {
  type: "invalid";
  reason: string;
  isRequest: boolean;
  method: string | undefined;
  echo: readonly (readonly [string, string])[];
};

/** Compact forms (RFC 3261 §7.3.3 and extensions) → long names. */
const COMPACT: Record<string, string> = {
  i: "Call-ID",
  m: "Contact",
  e: "Content-Encoding",
  l: "Content-Length",
  c: "Content-Type",
  f: "From",
  s: "Subject",
  k: "Supported",
  t: "To",
  v: "Via",
  o: "Event",
  r: "Refer-To",
  u: "Allow-Events",
  b: "Referred-By",
};
const CANONICAL: Record<string, string> = {
  "call-id": "Call-ID",
  cseq: "CSeq",
  "www-authenticate": "WWW-Authenticate",
  "max-forwards": "Max-Forwards",
};
/** Headers whose values may be comma-separated lists (split before each is parsed). */
const LIST_HEADERS = new Set(["Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require"]);
/** Headers every request and response must carry (RFC 3261 §8.1.1), echoed in a 400. */
const ECHOED = ["Via", "From", "To", "Call-ID", "CSeq"];

/** The canonical name of a header field as written (compact or any case). */
function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const compact = COMPACT[lower];
  if (compact) return compact;
  const known = CANONICAL[lower];
  if (known) return known;
  return lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

class Invalid extends Error {}

/**
 * Parses one SIP message (RFC 3261 §7): the framing and header splitting here, each header value
 * that the gateway uses by sip.js's RFC 3261 grammar. Unknown headers are kept as they are.
 */
export function parseSip(data: string): SipMessage | SipParseFailure {
  const end = data.indexOf("\r\n\r\n");
  const headEnd = end >= 0 ? end : data.indexOf("\n\n");
  const head = headEnd >= 0 ? data.slice(0, headEnd) : data;
  const rawBody = headEnd >= 0 ? data.slice(headEnd + (end >= 0 ? 4 : 2)) : "";
  const lines = head.split(/\r?\n/);
  const startLine = lines.shift() ?? "";
  const isRequest = !startLine.startsWith("SIP/");
  const method = isRequest ? startLine.split(" ")[0] : undefined;
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // A folded line continues the previous header's value (RFC 3261 §7.3.1).
      const last = headers[headers.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0)
      return failure(`malformed header line "${line.slice(0, 40)}"`, isRequest, method, headers);
    const name = line.slice(0, colon).trim();
    if (!/^[A-Za-z0-9!%*_+`'~.-]+$/.test(name))
      return failure(`malformed header name "${name.slice(0, 40)}"`, isRequest, method, headers);
    headers.push([canonicalHeaderName(name), line.slice(colon + 1).trim()]);
    if (headers.length > MAX_HEADER_LINES)
      return failure("too many header fields", isRequest, method, headers);
  }
  try {
    const start = parseStartLine(startLine);
    const values: [string, string][] = [];
    for (const [name, value] of headers) {
      if (LIST_HEADERS.has(name)) for (const v of splitList(value)) values.push([name, v]);
      else values.push([name, value]);
    }
    // One pass groups the values by name; every check below looks them up there.
    const byName = new Map<string, string[]>();
    for (const [name, value] of values) {
      const list = byName.get(name);
      if (list) list.push(value);
      else byName.set(name, [value]);
    }
    for (const [name, max] of Object.entries(MAX_LIST_VALUES))
      if ((byName.get(name)?.length ?? 0) > max) throw new Invalid(`more than ${max} ${name} values`);
    const one = (name: string): string => {
      const found = byName.get(name) ?? [];
      if (found.length === 0) throw new Invalid(`missing ${name}`);
      if (found.length > 1) throw new Invalid(`more than one ${name}`);
      return found[0]!;
    };
    const via = (byName.get("Via") ?? []).map(parseVia);
    if (via.length === 0) throw new Invalid("missing Via");
    const cseq = grammar<{ value: number; method: string }>(one("CSeq"), "CSeq", "CSeq");
    if (cseq.value > 2 ** 31 - 1) throw new Invalid("CSeq number out of range");
    const common = {
      headers: values,
      via,
      from: parseNameAddr(one("From"), "From"),
      to: parseNameAddr(one("To"), "To"),
      callId: checked(one("Call-ID"), "Call_ID", "Call-ID"),
      cseq: { seq: cseq.value, method: cseq.method },
      body: bodyOf(rawBody, values),
    };
    for (const [name, value] of values) {
      if (name === "Contact" && value !== "*") parseNameAddr(value, "Contact");
      if (name === "Expires" && !/^\d{1,10}$/.test(value)) throw new Invalid("malformed Expires");
    }
    if (start.type === "request") {
      if (start.method !== cseq.method) throw new Invalid("CSeq method does not match the request method");
      const mf = byName.get("Max-Forwards")?.[0];
      const maxForwards = mf === undefined ? 70 : grammar<number>(mf, "Max_Forwards", "Max-Forwards");
      return { type: "request", method: start.method, uri: start.uri, maxForwards, ...common };
    }
    return { type: "response", status: start.status, reason: start.reason, ...common };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return failure(error.message, isRequest, method, headers);
  }
}

/**
 * Why a stream's message head (no body: the stream broke at it) cannot be taken, with what of it
 * can be echoed in the answer.
 */
export function headFailure(head: string, reason: string): SipParseFailure {
  const m = parseSip(`${head}\r\n\r\n`);
  if (m.type === "invalid") return { ...m, reason };
  return failure(reason, m.type === "request", m.type === "request" ? m.method : undefined, m.headers);
}

function failure(
  reason: string,
  isRequest: boolean,
  method: string | undefined,
  headers: readonly (readonly [string, string])[],
): SipParseFailure {
  return { type: "invalid", reason, isRequest, method, echo: headers.filter(([n]) => ECHOED.includes(n)) };
}

function parseStartLine(
  line: string,
): { type: "request"; method: string; uri: SipUri } | { type: "response"; status: number; reason: string } {
  const parsed = grammar<{
    method?: string;
    uri?: RawUri;
    status_code?: number;
    reason_phrase?: string;
    sip_version: string;
  }>(line, "Request_Response", "start line");
  if (parsed.sip_version.toUpperCase() !== "SIP/2.0")
    throw new Invalid(`unsupported version ${parsed.sip_version}`);
  if (parsed.method !== undefined) {
    if (!parsed.uri) throw new Invalid("a request-URI the gateway cannot route (not sip: or sips:)");
    return { type: "request", method: parsed.method, uri: uriOf(parsed.uri) };
  }
  if (parsed.status_code === undefined || parsed.status_code < 100 || parsed.status_code > 699)
    throw new Invalid("status code out of range");
  return { type: "response", status: parsed.status_code, reason: parsed.reason_phrase ?? "" };
}

type RawUri = {
  parameters: Record<string, string | null | undefined>;
  normal?: { scheme: string; user?: string; host: string; port?: number };
  raw?: { scheme: string; user?: string; host: string; port?: number };
  scheme?: string;
  user?: string;
  host?: string;
  port?: number;
};

function uriOf(u: RawUri): SipUri {
  const n = u.normal ?? u.raw ?? { scheme: u.scheme ?? "", user: u.user, host: u.host ?? "", port: u.port };
  const scheme = n.scheme.toLowerCase();
  if (scheme !== "sip" && scheme !== "sips") throw new Invalid(`unsupported URI scheme ${scheme}`);
  const params: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(u.parameters ?? {})) params[k.toLowerCase()] = v ?? null;
  return { scheme, user: n.user, host: n.host.toLowerCase(), port: n.port, params };
}

function parseVia(value: string): Via {
  const v = grammar<{ transport: string; host: string; port?: number; branch?: string }>(value, "Via", "Via");
  return {
    transport: v.transport.toUpperCase(),
    host: v.host,
    port: v.port,
    branch: v.branch,
    rport: /;\s*rport\s*(;|=|$)/i.test(value),
    raw: value,
  };
}

function parseNameAddr(value: string, what: string): NameAddr {
  const rule = what === "Contact" ? "Contact" : what;
  const parsed = grammar<unknown>(value, rule, what);
  // Contact answers a list of {parsed}; From and To a NameAddrHeader.
  const header = (Array.isArray(parsed) ? (parsed[0] as { parsed: unknown }).parsed : parsed) as {
    uri: RawUri;
    parameters: Record<string, string | null | undefined>;
    _displayName?: string;
    displayName?: string;
  };
  const params: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(header.parameters ?? {})) params[k.toLowerCase()] = v ?? null;
  const displayName = header._displayName ?? header.displayName;
  return { displayName: displayName || undefined, uri: uriOf(header.uri), params };
}

function bodyOf(rawBody: string, values: readonly (readonly [string, string])[]): string {
  const cl = values.find(([n]) => n === "Content-Length")?.[1];
  if (cl === undefined) return rawBody;
  if (!/^\d{1,9}$/.test(cl)) throw new Invalid("malformed Content-Length");
  const length = Number(cl);
  const bytes = Buffer.from(rawBody, "utf8");
  if (bytes.length < length) throw new Invalid("body shorter than Content-Length");
  return bytes.subarray(0, length).toString("utf8");
}

/** The value itself, once the grammar accepts it. */
function checked(value: string, rule: string, what: string): string {
  grammar<unknown>(value, rule, what);
  return value;
}

function grammar<T>(value: string, rule: string, what: string): T {
  let parsed: unknown;
  try {
    parsed = Grammar.parse(value, rule);
  } catch {
    parsed = -1;
  }
  if (parsed === -1 || parsed === undefined) throw new Invalid(`malformed ${what}`);
  return parsed as T;
}

/** Splits a header value at top-level commas (not inside quotes or angle brackets). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "<") depth++;
    else if (c === ">") depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** The first value of a header. */
export function headerValue(
  m: { headers: readonly (readonly [string, string])[] },
  name: string,
): string | undefined {
  return m.headers.find(([n]) => n === name)?.[1];
}

/** Parses a Contact value (not "*"), for the registrar. */
export function parseContact(value: string): NameAddr | undefined {
  try {
    return parseNameAddr(value, "Contact");
  } catch (error) {
    if (error instanceof Invalid) return undefined;
    throw error;
  }
}

/** Parses a SIP URI written by a person (`sori call sip:carol@host:port`). */
export function parseSipUri(value: string): SipUri | undefined {
  try {
    return uriOf(grammar<RawUri>(value, "SIP_URI", "SIP URI"));
  } catch (error) {
    if (error instanceof Invalid) return undefined;
    throw error;
  }
}

/** A URI as text again. */
export function formatUri(u: SipUri): string {
  const user = u.user !== undefined ? `${escapeUser(u.user)}@` : "";
  const host = u.host.includes(":") && !u.host.startsWith("[") ? `[${u.host}]` : u.host;
  const port = u.port !== undefined ? `:${u.port}` : "";
  const params = Object.entries(u.params)
    .map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`))
    .join("");
  return `${u.scheme}:${user}${host}${port}${params}`;
}

/**
 * The user part as RFC 3261 §25.1 allows it on the wire: anything outside its characters is
 * %-escaped again (the grammar hands it back unescaped), so an escaped CRLF cannot become a header.
 */
function escapeUser(user: string): string {
  return [...Buffer.from(user, "utf8")]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/.test(c)
        ? c
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}
