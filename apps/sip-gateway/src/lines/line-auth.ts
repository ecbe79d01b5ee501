import { randomBytes } from "node:crypto";
import {
  answerStale,
  challengeHeaders,
  DigestNonces,
  type DigestAlgorithm,
  type DigestFailureReason,
  findCredentials,
  ha1,
  verifyDigest,
} from "../sip/digest.ts";
import { formatUri, parseSipUri, type SipRequest, type SipUri } from "../sip/sip-message.ts";
import type { HostedLine, HostedLines } from "./hosted-lines.ts";

/** The outcome of checking a request's digest credentials against the hosted lines. */
export type LineCheck =
  | { ok: true; line: HostedLine }
  /** No credentials yet (challenge), or a stale nonce (challenge again with stale=true). */
  | { ok: false; answer: "challenge"; stale: boolean }
  /** Wrong: the same refusal for an unknown user and a wrong password. `reason` is for logs only. */
  | { ok: false; answer: "refuse"; reason: DigestFailureReason | "no-line" };

/**
 * Digest authentication of phones against their lines (RFC 3261 §22 with RFC 8760's SHA-256): 401
 * challenges for REGISTER, 407 for calls. Nonces are stateless and expire; counts guard against replays.
 */
export class LineAuth {
  readonly realm: string;
  readonly #lines: HostedLines;
  readonly #nonces = new DigestNonces(randomBytes(32));
  readonly #algorithms: readonly DigestAlgorithm[];

  /**
   * `algorithms` are offered in this order (RFC 8760: SHA-256 first). Some old phones cannot take a
   * 401 that offers SHA-256 at all, whatever its order (libre 1.1, i.e. Debian's baresip 1.0, fails
   * with ENOSYS): a gateway for those offers MD5 alone.
   */
  constructor(
    lines: HostedLines,
    realm: string,
    algorithms: readonly DigestAlgorithm[] = ["SHA-256", "MD5"],
  ) {
    this.#lines = lines;
    this.realm = realm;
    this.#algorithms = algorithms;
  }

  /** The digests a new line stores for `password` (the password itself is not kept). */
  digestsOf(authUser: string, password: string): HostedLine["ha1"] {
    return {
      md5: ha1("MD5", authUser, this.realm, password),
      sha256: ha1("SHA-256", authUser, this.realm, password),
    };
  }

  /** WWW-Authenticate (`www`) or Proxy-Authenticate (`proxy`) headers, SHA-256 offered first. */
  /** `from` is the requester's address: the nonce is good only from there (no spoofed retries). */
  challenge(kind: "www" | "proxy", from: string, stale = false): [string, string][] {
    return challengeHeaders(kind, this.realm, this.#nonces, Date.now(), {
      stale,
      algorithms: this.#algorithms,
      scope: from,
    });
  }

  check(req: SipRequest, kind: "www" | "proxy", from: string): LineCheck {
    const credentials = findCredentials(req, kind, this.realm);
    if (!credentials) return { ok: false, answer: "challenge", stale: false };
    // The response covers its `uri`: it must be this request's, or a captured answer could be
    // replayed on a request for somewhere else (RFC 7616 §3.4.6).
    if (credentials.type === "digest" && !sameUri(credentials.uri, req.uri))
      return { ok: false, answer: "refuse", reason: "malformed" };
    const result = verifyDigest({
      method: req.method,
      credentials,
      realm: this.realm,
      nonces: this.#nonces,
      scope: from,
      now: Date.now(),
      lookup: (username, algorithm) => {
        const line = this.#lines.byAuthUser(username);
        // An algorithm the operator does not offer is not accepted either.
        if (!line || line.realm !== this.realm || !this.#algorithms.includes(algorithm)) return undefined;
        return algorithm === "MD5" ? line.ha1.md5 : line.ha1.sha256;
      },
    });
    if (!result.ok) {
      if (answerStale(result.reason)) return { ok: false, answer: "challenge", stale: true };
      // A credential for another realm is a phone set up for some other server: ask for ours.
      // (So is one computed with an algorithm not offered: the phone may fall back to one that is.)
      if (result.reason === "wrong-realm" || result.reason === "unsupported-algorithm")
        return { ok: false, answer: "challenge", stale: false };
      return { ok: false, answer: "refuse", reason: result.reason };
    }
    const line = this.#lines.byAuthUser(result.username);
    return line ? { ok: true, line } : { ok: false, answer: "refuse", reason: "no-line" };
  }
}

/** Whether a digest `uri` names the Request-URI (parameters aside: phones differ in which they repeat). */
function sameUri(digestUri: string, requestUri: SipUri): boolean {
  const parsed = parseSipUri(digestUri);
  return (
    parsed !== undefined && formatUri({ ...parsed, params: {} }) === formatUri({ ...requestUri, params: {} })
  );
}
