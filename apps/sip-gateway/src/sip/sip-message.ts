import { Grammar } from "sip.js/lib/grammar/grammar.js";

/**
 * Largest SIP message accepted. Real INVITEs are 1–4 KB; parsing is the gateway's most expensive
 * step before any rate limit, so what is larger is dropped unread.
 */
export const MAX_SIP_MESSAGE_BYTES = 16 * 1024;
const MAX_HEADER_LINES = 200;
/**
 * Values per list header that are parsed (each costs a grammar run): more is a 400. Via allows one
 * per hop of the usual Max-Forwards of 70 (RFC 4475's longreq has 34).
 */
const MAX_LIST_VALUES: Record<string, number> = { Via: 70, Contact: 8, "Record-Route": 32, Route: 32 };

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
  /** The body as text (what the gateway reads is SDP); exactly Content-Length bytes of it were framed. */
  body: string;
  /** The body's length in bytes, as framed (a binary body's text form is not byte-exact). */
  bodyLength: number;
};
export type SipRequest = Common & { type: "request"; method: string; uri: SipUri; maxForwards: number };
export type SipResponse = Common & { type: "response"; status: number; reason: string };
export type SipMessage = SipRequest | SipResponse;

/** What is wrong with a refused message, one code per kind of fault (the reason says which value). */
export type SipParseErrorCode =
  /** Not a message: a header line without a name and colon, too many header fields, a broken stream. */
  | "framing"
  /** The request line or status line does not follow RFC 3261 §7.1/§7.2. */
  | "start-line"
  /** A SIP version other than SIP/2.0: answered 505. */
  | "version"
  /** A URI that is not sip: or sips: (in the Request-URI: answered 416). */
  | "uri-scheme"
  /** URI headers (`?name=value`) where RFC 3261 allows none, or outside <>. */
  | "uri-headers"
  /** A header value that RFC 3261's grammar refuses. */
  | "header-value"
  | "missing-header"
  /** A second value of a header that takes one (From, To, Call-ID, CSeq, Content-Length). */
  | "duplicate-header"
  | "too-many-values"
  | "out-of-range"
  /** The CSeq method is not the request's method. */
  | "cseq-method"
  /** Content-Length is malformed or larger than the body. */
  | "content-length";

/**
 * Why a message was refused, the status it is answered with, and what of it can be echoed in that
 * answer: the raw Via, From, To, Call-ID and CSeq values that were present (one of each but Via).
 * Via is echoed only when the top one names where it came from: without it no answer is sent.
 */
export type SipParseFailure = {
  type: "invalid";
  code: SipParseErrorCode;
  /** 400, or what RFC 3261 says for the fault: 416 for a Request-URI scheme, 505 for the version. */
  status: 400 | 416 | 505;
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

class Invalid extends Error {
  readonly code: SipParseErrorCode;
  readonly status: SipParseFailure["status"];
  constructor(code: SipParseErrorCode, message: string, status: SipParseFailure["status"] = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * Parses one SIP message (RFC 3261 §7): the framing and header splitting here, each header value
 * that the gateway uses by sip.js's RFC 3261 grammar. Unknown headers are kept as they are. The
 * transports hand over the bytes, so that Content-Length counts bytes and a binary body (RFC 4475's
 * mpart01) is framed exactly; the head is UTF-8.
 */
export function parseSip(data: string | Uint8Array): SipMessage | SipParseFailure {
  const bytes =
    typeof data === "string"
      ? Buffer.from(data, "utf8")
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const crlf = bytes.indexOf("\r\n\r\n");
  const headEnd = crlf >= 0 ? crlf : bytes.indexOf("\n\n");
  // A datagram is one whole message: a head that runs to its end (no empty line, as in RFC 4475's
  // baddn) is still read as a head, with no body, so that its real fault is the one reported.
  const head =
    headEnd >= 0 ? bytes.subarray(0, headEnd).toString("utf8") : bytes.toString("utf8").replace(/\r?\n$/, "");
  const rawBody = headEnd >= 0 ? bytes.subarray(headEnd + (crlf >= 0 ? 4 : 2)) : Buffer.alloc(0);
  const lines = head.split(/\r?\n/);
  const startLine = lines.shift() ?? "";
  const isRequest = !startLine.startsWith("SIP/");
  const method = isRequest ? startLine.split(" ")[0] : undefined;
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // A folded line continues the previous header's value (RFC 3261 §7.3.1).
      const last = headers[headers.length - 1]!;
      last[1] = lws(`${last[1]} ${lws(line)}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0)
      return failure(
        new Invalid("framing", `malformed header line "${line.slice(0, 40)}"`),
        isRequest,
        method,
        headers,
      );
    const name = lws(line.slice(0, colon));
    if (!/^[A-Za-z0-9!%*_+`'~.-]+$/.test(name))
      return failure(
        new Invalid("framing", `malformed header name "${name.slice(0, 40)}"`),
        isRequest,
        method,
        headers,
      );
    headers.push([canonicalHeaderName(name), lws(line.slice(colon + 1))]);
    if (headers.length > MAX_HEADER_LINES)
      return failure(new Invalid("framing", "too many header fields"), isRequest, method, headers);
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
      if ((byName.get(name)?.length ?? 0) > max)
        throw new Invalid("too-many-values", `more than ${max} ${name} values`);
    const one = (name: string): string => {
      const found = byName.get(name) ?? [];
      if (found.length === 0) throw new Invalid("missing-header", `missing ${name}`);
      if (found.length > 1) throw new Invalid("duplicate-header", `more than one ${name}`);
      return found[0]!;
    };
    const via = (byName.get("Via") ?? []).map(parseVia);
    if (via.length === 0) throw new Invalid("missing-header", "missing Via");
    const cseq = grammar<{ value: number; method: string }>(one("CSeq"), "CSeq", "CSeq");
    if (cseq.value > 2 ** 31 - 1) throw new Invalid("out-of-range", "CSeq number out of range");
    const body = bodyOf(rawBody, byName.get("Content-Length") ?? []);
    const common = {
      headers: values,
      via,
      from: parseNameAddr(one("From"), "From"),
      to: parseNameAddr(one("To"), "To"),
      callId: checked(one("Call-ID"), "Call_ID", "Call-ID"),
      cseq: { seq: cseq.value, method: cseq.method },
      body: body.toString("utf8"),
      bodyLength: body.length,
    };
    for (const [name, value] of values) {
      if (name === "Contact" && value !== "*") parseNameAddr(value, "Contact");
      if (name === "Expires" && !/^\d{1,10}$/.test(value))
        throw new Invalid("header-value", "malformed Expires");
    }
    if (start.type === "request") {
      if (start.method !== cseq.method)
        throw new Invalid("cseq-method", "CSeq method does not match the request method");
      const mf = byName.get("Max-Forwards")?.[0];
      const maxForwards = mf === undefined ? 70 : grammar<number>(mf, "Max_Forwards", "Max-Forwards");
      return { type: "request", method: start.method, uri: start.uri, maxForwards, ...common };
    }
    return { type: "response", status: start.status, reason: start.reason, ...common };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return failure(error, isRequest, method, headers);
  }
}

/**
 * Why a stream's message head (no body: the stream broke at it) cannot be taken, with what of it
 * can be echoed in the answer.
 */
export function headFailure(head: string, reason: string): SipParseFailure {
  const m = parseSip(`${head}\r\n\r\n`);
  const broken = new Invalid("framing", reason);
  if (m.type === "invalid") return { ...m, code: broken.code, status: broken.status, reason };
  return failure(broken, m.type === "request", m.type === "request" ? m.method : undefined, m.headers);
}

function failure(
  error: Invalid,
  isRequest: boolean,
  method: string | undefined,
  headers: readonly (readonly [string, string])[],
): SipParseFailure {
  const echo: (readonly [string, string])[] = [];
  const topVia = headers.find(([n]) => n === "Via")?.[1];
  const answerable = topVia !== undefined && namesSentBy(topVia);
  for (const [name, value] of headers) {
    if (!ECHOED.includes(name)) continue;
    if (name === "Via" ? !answerable : echo.some(([n]) => n === name)) continue;
    // What goes back must not carry bytes a peer's parser could take for the end of a line.
    // eslint-disable-next-line no-control-regex -- the control characters are what is looked for
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) continue;
    echo.push([name, value]);
  }
  return {
    type: "invalid",
    code: error.code,
    status: error.status,
    reason: error.message,
    isRequest,
    method,
    echo,
  };
}

/**
 * Whether a Via value's sent-protocol and sent-by parse (its parameters may not): then a refusal can
 * go back to where the request came from, as RFC 4475 asks even of badinv01's ";;,;,," Via.
 */
function namesSentBy(value: string): boolean {
  const first = splitList(value)[0]?.split(";")[0] ?? "";
  try {
    const parsed: unknown = Grammar.parse(first, "Via");
    return parsed !== -1 && parsed !== undefined;
  } catch {
    return false;
  }
}

function parseStartLine(
  line: string,
): { type: "request"; method: string; uri: SipUri } | { type: "response"; status: number; reason: string } {
  let parsed: {
    method?: string;
    uri?: RawUri & { headers?: Record<string, unknown> };
    scheme?: string;
    status_code?: number;
    reason_phrase?: string;
    sip_version: string;
  };
  try {
    parsed = grammar(line, "Request_Response", "start line");
  } catch (error) {
    if (error instanceof Invalid) throw new Invalid("start-line", startLineFault(line));
    throw error;
  }
  if (parsed.sip_version.toUpperCase() !== "SIP/2.0")
    throw new Invalid("version", `unsupported version ${parsed.sip_version}`, 505);
  if (parsed.method !== undefined) {
    if (!parsed.uri)
      throw new Invalid(
        "uri-scheme",
        `Request-URI scheme ${(parsed.scheme ?? "").slice(0, 40)}: the gateway takes sip: and sips:`,
        416,
      );
    // RFC 3261 §19.1.1 (table 1): headers are not allowed in a Request-URI (RFC 4475's escruri).
    if (Object.keys(parsed.uri.headers ?? {}).length > 0)
      throw new Invalid("uri-headers", "headers in the Request-URI");
    return { type: "request", method: parsed.method, uri: uriOf(parsed.uri) };
  }
  if (parsed.status_code === undefined || parsed.status_code < 100 || parsed.status_code > 699)
    throw new Invalid("start-line", "status code out of range");
  return { type: "response", status: parsed.status_code, reason: parsed.reason_phrase ?? "" };
}

/** What is wrong with a start line the grammar refused, in words a peer's log can use. */
function startLineFault(line: string): string {
  if (/[ \t]$/.test(line)) return "white space at the end of the start line";
  if (/ {2}|\t/.test(line)) return "more than one SP between the start line's elements";
  const parts = line.split(" ");
  if (line.startsWith("SIP/"))
    return /^\d{3}$/.test(parts[1] ?? "") ? "malformed status line" : "status code out of range";
  if (parts[1]?.startsWith("<")) return "a Request-URI in angle brackets";
  if (parts.length > 3) return "white space inside the Request-URI";
  return "malformed request line";
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

function uriOf(u: RawUri, what = "URI"): SipUri {
  const n = u.normal ?? u.raw ?? { scheme: u.scheme ?? "", user: u.user, host: u.host ?? "", port: u.port };
  const scheme = n.scheme.toLowerCase();
  if (scheme !== "sip" && scheme !== "sips")
    throw new Invalid("uri-scheme", `${what} is a ${scheme.slice(0, 40)}: URI, not sip: or sips:`);
  // The grammar unescapes the user part but not parameters; RFC 3261 §19.1.4 makes %HEX the same
  // as the character, once (RFC 4475's esc01: ";%6C%72" is lr, "v%61lue%25%34%31" is "value%41").
  const params: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(u.parameters ?? {}))
    params[unescape(k).toLowerCase()] = v === null || v === undefined ? null : unescape(v);
  return { scheme, user: n.user, host: n.host.toLowerCase(), port: n.port, params };
}

/** %HEX HEX decoded once; a value whose escapes are not UTF-8 stays as it was written. */
function unescape(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
  } catch {
    return s;
  }
}

function parseVia(value: string): Via {
  const v = diagnosed(value, "Via", () =>
    grammar<{ transport: string; host: string; port?: number; branch?: string }>(value, "Via", "Via"),
  );
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
  // Without <>, everything after the first ";" is header parameters: a URI with headers (or any
  // "?") must be bracketed (RFC 3261 §20; RFC 4475's regbadct).
  if (!value.includes("<") && value.split(";")[0]!.includes("?"))
    throw new Invalid("uri-headers", `a ${what} URI with headers must be in angle brackets`);
  const scheme = schemeOf(value);
  const parsed = diagnosed(value, what, () => {
    try {
      return grammar<unknown>(value, what, what);
    } catch (error) {
      // The grammar knows SIP URIs only: say so when that is the fault (RFC 4475's unksm2).
      if (error instanceof Invalid && scheme !== undefined && scheme !== "sip" && scheme !== "sips")
        throw new Invalid("uri-scheme", `${what} is a ${scheme.slice(0, 40)}: URI, not sip: or sips:`);
      throw error;
    }
  });
  // Contact answers a list of {parsed}; From and To a NameAddrHeader.
  const header = (Array.isArray(parsed) ? (parsed[0] as { parsed: unknown }).parsed : parsed) as {
    uri: RawUri;
    parameters: Record<string, string | null | undefined>;
    _displayName?: string;
    displayName?: string;
  };
  const params: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(header.parameters ?? {})) params[k.toLowerCase()] = v ?? null;
  // The grammar drops a quoted display name's quotes but keeps its quoted-pairs (RFC 3261 §25.1):
  // `"J Rosenberg \\\""` is `J Rosenberg \"` (RFC 4475's wsinv). A token name has no backslash.
  const displayName = (header._displayName ?? header.displayName)?.replace(/\\([\s\S])/g, "$1");
  return { displayName: displayName || undefined, uri: uriOf(header.uri, what), params };
}

/**
 * The grammar's verdict on a header value, its "malformed" refusal worded by the fault where one of
 * RFC 4475's is recognised, so that a peer's log says what to fix.
 */
function diagnosed<T>(value: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof Invalid) || error.code !== "header-value") throw error;
    const quotes = value.replace(/\\./g, "").split('"').length - 1;
    const fault =
      quotes % 2 === 1
        ? "an unterminated quoted string" // quotbal
        : /<\s|\s>/.test(value)
          ? "white space inside the angle brackets" // badaspec
          : /;\s*(?=[;,]|$)/.test(value)
            ? "an empty parameter" // badinv01
            : /^[^"<]*[^\w\s.!%*+`'~-][^"<]*</.test(value)
              ? "an unquoted display name with characters outside token" // baddn
              : undefined;
    if (fault === undefined) throw error;
    throw new Invalid("header-value", `malformed ${what}: ${fault}`);
  }
}

/** The scheme of a name-addr's or addr-spec's URI, if it has one. */
function schemeOf(value: string): string | undefined {
  const inner = /<\s*([^>]*)>/.exec(value)?.[1] ?? value.split(";")[0]!;
  return /^\s*([A-Za-z][A-Za-z0-9+.-]*):/.exec(inner)?.[1]?.toLowerCase();
}

/**
 * Exactly Content-Length bytes of what followed the head; without one (a datagram from an RFC 2543
 * peer), all of it (RFC 3261 §18.3). Trailing bytes are dropped (RFC 4475's dblreq).
 */
function bodyOf(rawBody: Buffer, lengths: readonly string[]): Buffer {
  // Two lengths leave no way to know where the body ends (RFC 4475's mcl01).
  if (lengths.length > 1) throw new Invalid("duplicate-header", "more than one Content-Length");
  const cl = lengths[0];
  if (cl === undefined) return rawBody;
  if (!/^\d{1,9}$/.test(cl)) throw new Invalid("content-length", "malformed Content-Length");
  const length = Number(cl);
  if (rawBody.length < length) throw new Invalid("content-length", "body shorter than Content-Length");
  return rawBody.subarray(0, length);
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
  if (parsed === -1 || parsed === undefined) throw new Invalid("header-value", `malformed ${what}`);
  return parsed as T;
}

/**
 * Without the white space around it (SP and HTAB, RFC 3261 §25.1): JavaScript's trim() would take a
 * leading byte-order mark too, which is a header value's own (RFC 4475's intmeth).
 */
function lws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
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
      out.push(lws(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(lws(value.slice(start)));
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
    return uriOf(grammar<RawUri>(value, "SIP_URI", "SIP URI"), "SIP URI");
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
    .map(([k, v]) => (v === null ? `;${escapeParam(k)}` : `;${escapeParam(k)}=${escapeParam(v)}`))
    .join("");
  return `${u.scheme}:${user}${host}${port}${params}`;
}

/**
 * The user part as RFC 3261 §25.1 allows it on the wire: anything outside its characters is
 * %-escaped again (the grammar hands it back unescaped), so an escaped CRLF cannot become a header.
 */
function escapeUser(user: string): string {
  return escapeOutside(user, /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/);
}

/** A URI parameter's name or value as RFC 3261 §25.1's paramchar allows it (parameters are unescaped). */
function escapeParam(value: string): string {
  return escapeOutside(value, /[A-Za-z0-9\-_.!~*'()[\]/:&+$]/);
}

function escapeOutside(value: string, allowed: RegExp): string {
  return [...Buffer.from(value, "utf8")]
    .map((b) => {
      const c = String.fromCharCode(b);
      return allowed.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}
