import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { MAX_SIP_MESSAGE_BYTES } from "./sip-message.ts";

/**
 * HTTP Digest as SIP uses it (RFC 3261 §22, RFC 7616, RFC 8760): challenges, stateless nonces,
 * credentials parsing and verification. Pure apart from node:crypto: the caller passes `now`.
 */

/** The algorithms the gateway offers and accepts; `-sess` variants and auth-int are not offered. */
export type DigestAlgorithm = "SHA-256" | "MD5";

/** RFC 8760 §2.4: the strongest first, one challenge each; a phone takes the first it knows. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ["SHA-256", "MD5"];

const NODE_HASH: Record<DigestAlgorithm, string> = { "SHA-256": "sha256", MD5: "md5" };
const HEX_LENGTH: Record<DigestAlgorithm, number> = { "SHA-256": 64, MD5: 32 };

/** A configuration mistake (short secret, control characters in a realm): a bug, not input. */
export class DigestConfigError extends Error {
  readonly code = "digest-config";
  constructor(message: string) {
    super(message);
    this.name = "DigestConfigError";
  }
}

function hash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(NODE_HASH[algorithm]).update(data, "utf8").digest("hex");
}

/** H(username:realm:password) in hex: what a server stores instead of the password. */
export function ha1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

/** What goes into a response: qop, nc and cnonce all present (qop=auth) or all absent (RFC 2069). */
export type DigestResponseInput = {
  algorithm: DigestAlgorithm;
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  qop?: { qop: string; nc: string; cnonce: string };
};

/** The `response` value (RFC 7616 §3.4.1), as a client computes it and a server expects it. */
export function digestResponse(i: DigestResponseInput): string {
  const ha2 = hash(i.algorithm, `${i.method}:${i.uri}`);
  const middle = i.qop ? `${i.qop.nc}:${i.qop.cnonce}:${i.qop.qop}:` : "";
  return hash(i.algorithm, `${i.ha1}:${i.nonce}:${middle}${ha2}`);
}

// ---------------------------------------------------------------------------------------------
// Nonces

/** What a nonce is worth now: "stale" has a valid HMAC but is too old (answer with stale=true). */
export type NonceState = "ok" | "stale" | "invalid";

/** What verifyDigest needs of a nonce store; DigestNonces is the real one. */
/**
 * `scope` ties a nonce to what it was issued for (the gateway passes the requester's address): one
 * issued to another scope is invalid, so credentials cannot be sent from a spoofed source.
 */
export type DigestNonceStore = {
  check(nonce: string, now: number, scope?: string): NonceState;
  recordCount(nonce: string, nc: number, now: number, scope?: string): "ok" | "replay" | NonceState;
};

export type DigestNoncesOptions = {
  /** How long a nonce is accepted, ms (default 300 s). */
  lifetimeMs?: number;
  /** Nonces whose highest nonce-count is remembered (default 10,000); the oldest are forgotten first. */
  maxTracked?: number;
};

/** Issue time (8 bytes, ms) and 8 random bytes, then a truncated HMAC of both: 32 bytes, 43 base64url. */
const NONCE_BODY_BYTES = 16;
const NONCE_MAC_BYTES = 16;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** A nonce "from the future" this far means the clock stepped back: stale, so the phone just retries. */
const CLOCK_SKEW_MS = 5_000;

/**
 * Stateless nonces: each carries its issue time and an HMAC, so a forged or expired one is told
 * apart without a table of issued nonces (a flood of challenges costs no memory). Only the highest
 * nonce-count per used nonce is kept, bounded, for replay protection.
 */
export class DigestNonces implements DigestNonceStore {
  readonly lifetimeMs: number;
  readonly #key: Buffer;
  readonly #maxTracked: number;
  /** Highest accepted nonce-count per nonce, in order of first use (Map order: oldest first). */
  readonly #counts = new Map<string, { nc: number; issuedAt: number }>();
  /** The latest issue time among forgotten nonces: an untracked nonce issued no later may be a replay. */
  #forgottenUpTo = -Infinity;

  constructor(secret: Uint8Array, options: DigestNoncesOptions = {}) {
    if (secret.length < 16) throw new DigestConfigError("the nonce secret needs at least 16 bytes");
    this.#key = Buffer.from(secret);
    this.lifetimeMs = options.lifetimeMs ?? 300_000;
    this.#maxTracked = Math.max(1, options.maxTracked ?? 10_000);
  }

  /** A fresh nonce issued at `now`. */
  issue(now: number, scope = ""): string {
    const body = Buffer.alloc(NONCE_BODY_BYTES);
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    randomBytes(8).copy(body, 8);
    return Buffer.concat([body, this.#mac(body, scope)]).toString("base64url");
  }

  check(nonce: string, now: number, scope = ""): NonceState {
    const issuedAt = this.#issuedAt(nonce, scope);
    if (issuedAt === undefined) return "invalid";
    return this.#fresh(issuedAt, now) ? "ok" : "stale";
  }

  /**
   * Records that a response with nonce-count `nc` matched (call it only then, so that a guess with
   * a high nc cannot use up a phone's nonce). "replay" if `nc` is not above the highest seen;
   * RFC 2069 responses (no nc) pass Infinity: their nonce is then used up.
   */
  recordCount(nonce: string, nc: number, now: number, scope = ""): "ok" | "replay" | NonceState {
    const issuedAt = this.#issuedAt(nonce, scope);
    if (issuedAt === undefined) return "invalid";
    if (!this.#fresh(issuedAt, now)) return "stale";
    const seen = this.#counts.get(nonce);
    if (seen) {
      if (nc <= seen.nc) return "replay";
      seen.nc = nc;
      return "ok";
    }
    // Its count may have been forgotten to bound memory: refusing it as stale costs the phone one
    // round trip, accepting it would let a replay through.
    if (issuedAt <= this.#forgottenUpTo) return "stale";
    this.#makeRoom(now);
    this.#counts.set(nonce, { nc, issuedAt });
    return "ok";
  }

  /** Nonces whose count is remembered (for stats). */
  get tracked(): number {
    return this.#counts.size;
  }

  #makeRoom(now: number): void {
    // Expired nonces are refused as stale anyway: forgetting them loses nothing.
    for (const [nonce, { issuedAt }] of this.#counts) {
      if (this.#fresh(issuedAt, now)) break;
      this.#counts.delete(nonce);
    }
    for (const [nonce, { issuedAt }] of this.#counts) {
      if (this.#counts.size < this.#maxTracked) break;
      this.#counts.delete(nonce);
      this.#forgottenUpTo = Math.max(this.#forgottenUpTo, issuedAt);
    }
  }

  #fresh(issuedAt: number, now: number): boolean {
    const age = now - issuedAt;
    return age <= this.lifetimeMs && age >= -CLOCK_SKEW_MS;
  }

  #issuedAt(nonce: string, scope: string): number | undefined {
    if (!NONCE_PATTERN.test(nonce)) return undefined;
    const bytes = Buffer.from(nonce, "base64url");
    // Only the canonical encoding: two spellings of one nonce would be two entries for replay checks.
    if (bytes.length !== NONCE_BODY_BYTES + NONCE_MAC_BYTES || bytes.toString("base64url") !== nonce)
      return undefined;
    const body = bytes.subarray(0, NONCE_BODY_BYTES);
    if (!timingSafeEqual(bytes.subarray(NONCE_BODY_BYTES), this.#mac(body, scope))) return undefined;
    return Number(body.readBigUInt64BE(0));
  }

  #mac(body: Uint8Array, scope: string): Buffer {
    return createHmac("sha256", this.#key)
      .update("sori-sip-digest-nonce\0")
      .update(`${scope}\0`)
      .update(body)
      .digest()
      .subarray(0, NONCE_MAC_BYTES);
  }
}

// ---------------------------------------------------------------------------------------------
// Challenges

export type ChallengeOptions = {
  /** The previous request's nonce was stale (or replayed): the phone retries without asking the user. */
  stale?: boolean;
  opaque?: string;
  /** Which algorithms to offer, most preferred first (default SHA-256, then MD5). */
  algorithms?: readonly DigestAlgorithm[];
  /** What the nonce is for (see DigestNonceStore): the requester's address. */
  scope?: string;
};

/**
 * The challenge headers for a 401 (`www`: WWW-Authenticate) or 407 (`proxy`: Proxy-Authenticate):
 * one per algorithm, SHA-256 first (RFC 8760 §2.4), sharing one fresh nonce.
 */
export function challengeHeaders(
  kind: "www" | "proxy",
  realm: string,
  nonces: DigestNonces,
  now: number,
  options: ChallengeOptions = {},
): [string, string][] {
  const name = kind === "www" ? "WWW-Authenticate" : "Proxy-Authenticate";
  const nonce = nonces.issue(now, options.scope);
  return (options.algorithms ?? DIGEST_ALGORITHMS).map((algorithm): [string, string] => {
    const params = [`realm=${quote(realm)}`, `nonce="${nonce}"`, `algorithm=${algorithm}`, `qop="auth"`];
    if (options.opaque !== undefined) params.push(`opaque=${quote(options.opaque)}`);
    if (options.stale) params.push("stale=true");
    return [name, `Digest ${params.join(", ")}`];
  });
}

function quote(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\x00-\x1f\x7f]/.test(value)) throw new DigestConfigError("control character in a challenge value");
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

// ---------------------------------------------------------------------------------------------
// Credentials

/** A parsed `Digest …` credentials value (Authorization or Proxy-Authorization). */
export type DigestCredentials = {
  type: "digest";
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** As sent; absent means MD5 (RFC 7616 §3.4). */
  algorithm: string | undefined;
  qop: string | undefined;
  nc: string | undefined;
  cnonce: string | undefined;
  opaque: string | undefined;
  /** Every parameter as sent, unquoted, names in lower case (unknown ones included). */
  params: Readonly<Record<string, string>>;
};

export type DigestParseFailure = { type: "invalid"; reason: string };

/** More parameters than any real phone sends (RFC 7616 defines 12). */
const MAX_PARAMS = 30;
const REQUIRED = ["username", "realm", "nonce", "uri", "response"] as const;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const WHITESPACE = /[ \t]/;

/**
 * Parses a `Digest k=v, k="v", …` credentials value. Lenient where phones differ (scheme and
 * names in any case, empty list elements, unquoted values) and strict where a difference could
 * be exploited (a repeated parameter, an unterminated quote, control characters).
 */
export function parseAuthorization(value: string): DigestCredentials | DigestParseFailure {
  const parsed = parseDigestParams(value);
  if ("type" in parsed) return parsed;
  const params = parsed.params;
  for (const name of REQUIRED) if (params[name] === undefined) return invalid(`missing ${name}`);
  return {
    type: "digest",
    username: params.username!,
    realm: params.realm!,
    nonce: params.nonce!,
    uri: params.uri!,
    response: params.response!,
    algorithm: params.algorithm,
    qop: params.qop,
    nc: params.nc,
    cnonce: params.cnonce,
    opaque: params.opaque,
    params,
  };
}

/** A `Digest …` challenge (WWW-Authenticate or Proxy-Authenticate) from a server the gateway calls. */
type DigestChallenge = {
  realm: string;
  nonce: string;
  /** As sent; absent means MD5. */
  algorithm: string | undefined;
  /** The qop options offered (e.g. ["auth", "auth-int"]); empty: RFC 2069 style. */
  qop: string[];
  opaque: string | undefined;
};

/** Parses a challenge value; a failure for anything that is not a usable Digest challenge. */
function parseChallenge(value: string): DigestChallenge | DigestParseFailure {
  const parsed = parseDigestParams(value);
  if ("type" in parsed) return parsed;
  const p = parsed.params;
  if (p.realm === undefined || p.nonce === undefined) return invalid("a challenge needs realm and nonce");
  return {
    realm: p.realm,
    nonce: p.nonce,
    algorithm: p.algorithm,
    qop: (p.qop ?? "")
      .split(",")
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q !== ""),
    opaque: p.opaque,
  };
}

/**
 * The credentials answering the first challenge this gateway can compute (SHA-256 or MD5, qop=auth
 * or none), as a client: for a trunk that challenges the gateway's INVITE. Undefined if none fits.
 */
export function answerChallenge(
  challenges: readonly string[],
  o: { username: string; password: string; method: string; uri: string },
): string | undefined {
  for (const value of challenges) {
    const c = parseChallenge(value);
    if ("type" in c) continue;
    const algorithm = algorithmOf(c.algorithm);
    if (!algorithm) continue;
    const withQop = c.qop.includes("auth");
    if (!withQop && c.qop.length > 0) continue;
    const cnonce = randomBytes(8).toString("hex");
    const response = digestResponse({
      algorithm,
      ha1: ha1(algorithm, o.username, c.realm, o.password),
      nonce: c.nonce,
      method: o.method,
      uri: o.uri,
      ...(withQop ? { qop: { qop: "auth", nc: "00000001", cnonce } } : {}),
    });
    const q = (s: string): string => `"${s.replace(/["\\]/g, "\\$&")}"`;
    const params = [
      `username=${q(o.username)}`,
      `realm=${q(c.realm)}`,
      `nonce=${q(c.nonce)}`,
      `uri=${q(o.uri)}`,
      `response="${response}"`,
      `algorithm=${algorithm}`,
      ...(withQop ? [`qop=auth`, `nc=00000001`, `cnonce="${cnonce}"`] : []),
      ...(c.opaque !== undefined ? [`opaque=${q(c.opaque)}`] : []),
    ];
    return `Digest ${params.join(", ")}`;
  }
  return undefined;
}

/** The `k=v, k="v", …` list after the Digest scheme, unquoted, names in lower case. */
function parseDigestParams(value: string): { params: Record<string, string> } | DigestParseFailure {
  if (value.length > MAX_SIP_MESSAGE_BYTES) return invalid("credentials too long");
  // eslint-disable-next-line no-control-regex -- CR, LF and NUL never belong in an unfolded header value
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return invalid("control character in credentials");
  const scheme = /^[ \t]*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:[ \t]+|$)/.exec(value);
  if (!scheme) return invalid("no authentication scheme");
  if (scheme[1]!.toLowerCase() !== "digest")
    return invalid(`scheme ${scheme[1]!.slice(0, 20)} is not Digest`);
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  let i = scheme[0].length;
  const skip = (chars: RegExp): void => {
    while (i < value.length && chars.test(value[i]!)) i++;
  };
  for (;;) {
    // RFC 7230 §7: empty list elements (", ,") are allowed and ignored.
    skip(/[ \t,]/);
    if (i >= value.length) break;
    const nameStart = i;
    skip(TOKEN_CHAR);
    if (i === nameStart) return invalid(`unexpected "${value[i]}" at ${i}`);
    const name = value.slice(nameStart, i).toLowerCase();
    skip(WHITESPACE);
    if (value[i] !== "=") return invalid(`parameter ${name.slice(0, 20)} has no value`);
    i++;
    skip(WHITESPACE);
    let v: string;
    if (value[i] === '"') {
      i++;
      let out = "";
      let closed = false;
      while (i < value.length) {
        const c = value[i]!;
        if (c === "\\" && i + 1 < value.length) {
          out += value[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          out += c;
          i++;
        }
      }
      if (!closed) return invalid(`unterminated quoted value of ${name.slice(0, 20)}`);
      v = out;
    } else {
      // A token by the grammar; some phones leave a uri unquoted, so anything up to a comma.
      const start = i;
      while (i < value.length && value[i] !== "," && !WHITESPACE.test(value[i]!) && value[i] !== '"') i++;
      if (i === start) return invalid(`empty value of ${name.slice(0, 20)}`);
      v = value.slice(start, i);
    }
    skip(WHITESPACE);
    if (i < value.length && value[i] !== ",")
      return invalid(`unexpected "${value[i]}" after ${name.slice(0, 20)}`);
    // A repeated parameter could be read one way here and another elsewhere (RFC 7235 §2.1 forbids it).
    if (name in params) return invalid(`parameter ${name.slice(0, 20)} repeated`);
    if (++count > MAX_PARAMS) return invalid("too many parameters");
    params[name] = v;
  }
  return { params };
}

function invalid(reason: string): DigestParseFailure {
  return { type: "invalid", reason };
}

/**
 * The credentials of a request for `realm`: the Authorization (`www`) or Proxy-Authorization
 * (`proxy`) value with that realm, else the first one; undefined when there is none. A scheme other
 * than Digest is none: the phone is challenged for Digest, not refused (RFC 4475's regaut01).
 */
export function findCredentials(
  m: { headers: readonly (readonly [string, string])[] },
  kind: "www" | "proxy",
  realm: string,
): DigestCredentials | DigestParseFailure | undefined {
  const name = kind === "www" ? "Authorization" : "Proxy-Authorization";
  let first: DigestCredentials | DigestParseFailure | undefined;
  for (const [n, v] of m.headers) {
    if (n !== name || !/^[ \t]*digest([ \t]|$)/i.test(v)) continue;
    const c = parseAuthorization(v);
    if (c.type === "digest" && c.realm === realm) return c;
    first ??= c;
  }
  return first;
}

// ---------------------------------------------------------------------------------------------
// Verification

export type DigestFailureReason =
  | "unknown-user"
  | "wrong-password"
  | "stale-nonce"
  | "invalid-nonce"
  | "replay"
  | "wrong-realm"
  | "unsupported-algorithm"
  | "malformed";

export type DigestResult =
  { ok: true; username: string; algorithm: DigestAlgorithm } | { ok: false; reason: DigestFailureReason };

export type VerifyDigestInput = {
  /** The request method (HA2 = H(method:digest-uri)). */
  method: string;
  /** Parsed credentials, or the header value to parse. */
  credentials: DigestCredentials | DigestParseFailure | string;
  realm: string;
  nonces: DigestNonceStore;
  /** The scope the nonce must have been issued for (the requester's address). */
  scope?: string;
  now: number;
  /**
   * The stored HA1 of a user for an algorithm, or undefined. It is synchronous: a caller whose
   * store is async parses the credentials first, fetches, then calls verifyDigest.
   */
  lookup: (username: string, algorithm: DigestAlgorithm) => string | undefined;
};

/** Stand-ins for the HA1 of a user who does not exist, so that the same work is done for them. */
const ABSENT_HA1: Record<DigestAlgorithm, string> = {
  "SHA-256": randomBytes(32).toString("hex"),
  MD5: randomBytes(16).toString("hex"),
};

/**
 * Checks Digest credentials (qop=auth, or none for RFC 2069 phones with MD5).
 *
 * The reasons are for logs. Against user enumeration, an unknown user costs the same work as a
 * wrong password and the caller MUST answer "unknown-user" and "wrong-password" identically (a
 * fresh 401/407 challenge), as it does every other failure except "stale-nonce" and "replay":
 * those are answered with `stale=true` (see answerStale), which only a right password reaches.
 */
export function verifyDigest(o: VerifyDigestInput): DigestResult {
  const c = typeof o.credentials === "string" ? parseAuthorization(o.credentials) : o.credentials;
  if (c.type === "invalid") return fail("malformed");
  const algorithm = algorithmOf(c.algorithm);
  if (!algorithm) return fail("unsupported-algorithm");
  if (c.realm !== o.realm) return fail("wrong-realm");
  let nc = Infinity;
  if (c.qop === undefined) {
    // RFC 2069 had only MD5; a SHA-256 client knows qop (RFC 7616 requires it).
    if (algorithm !== "MD5" || c.nc !== undefined || c.cnonce !== undefined) return fail("malformed");
  } else {
    // Only auth was offered; an nc is 8 hex digits and starts at 1 (RFC 7616 §3.4).
    if (c.qop.toLowerCase() !== "auth" || c.nc === undefined || !c.cnonce) return fail("malformed");
    if (!/^[0-9a-fA-F]{8}$/.test(c.nc)) return fail("malformed");
    nc = parseInt(c.nc, 16);
    if (nc === 0) return fail("malformed");
  }
  const response = c.response.toLowerCase();
  if (response.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(response)) return fail("malformed");
  const nonce = o.nonces.check(c.nonce, o.now, o.scope);
  // An invalid nonce says nothing about the user: no lookup needed.
  if (nonce === "invalid") return fail("invalid-nonce");
  const stored = o.lookup(c.username, algorithm);
  const expected = digestResponse({
    algorithm,
    ha1: (stored ?? ABSENT_HA1[algorithm]).toLowerCase(),
    nonce: c.nonce,
    method: o.method,
    uri: c.uri,
    ...(c.qop !== undefined ? { qop: { qop: c.qop, nc: c.nc!, cnonce: c.cnonce! } } : {}),
  });
  const matches = timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(response, "latin1"));
  if (stored === undefined) return fail("unknown-user");
  if (!matches) return fail("wrong-password");
  // RFC 7616 §3.3: stale only for a nonce that was ours and a response that was right.
  if (nonce === "stale") return fail("stale-nonce");
  const counted = o.nonces.recordCount(c.nonce, nc, o.now, o.scope);
  if (counted === "replay") return fail("replay");
  if (counted !== "ok") return fail("stale-nonce");
  return { ok: true, username: c.username, algorithm };
}

/** Whether a failure is answered with `stale=true` (the phone retries without asking its user). */
export function answerStale(reason: DigestFailureReason): boolean {
  return reason === "stale-nonce" || reason === "replay";
}

function algorithmOf(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return "MD5";
  const upper = value.toUpperCase();
  return upper === "MD5" || upper === "SHA-256" ? upper : undefined;
}

function fail(reason: DigestFailureReason): DigestResult {
  return { ok: false, reason };
}
