import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { isPrivateAddress } from "../private-address.ts";
import { type PushAttempt, retryAfterMs } from "./push-retry.ts";

/** One request to a push service (RFC 8030 §5): POST to the endpoint with the encrypted body. */
export type PushRequest = { url: URL; headers: Record<string, string>; body: Buffer };

/** A push service that has not answered in this long is given up on for this attempt. */
const TIMEOUT_MS = 10_000;
/** What the server reads of an answer's body before it drops it (it never uses it). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * DNS lookups that refuse private, loopback and link-local answers: with `--push-hosts any` an endpoint's
 * name is resolved again at every connection, so pointing it at an internal address after registration
 * does not reach one either.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused || addresses.length === 0) {
      const e = Object.assign(new Error(`${hostname} resolves to a private address`), { code: "EPRIVATE" });
      return callback(e, "", 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** Sends push requests over kept-alive connections (FCM and the others take many from one server). */
export class PushClient {
  readonly #https = new HttpsAgent({ keepAlive: true, maxSockets: 32 });
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  readonly #publicOnly: boolean;

  /** `publicOnly`: resolve names through publicOnlyLookup (`--push-hosts any`). */
  constructor(options: { publicOnly: boolean }) {
    this.#publicOnly = options.publicOnly;
  }

  /** Posts once; resolves with the status (and Retry-After), or how it failed. Never rejects. */
  post(push: PushRequest, now: () => number = Date.now): Promise<PushAttempt> {
    const secure = push.url.protocol === "https:";
    return new Promise((resolve) => {
      let settled = false;
      const settle = (a: PushAttempt): void => {
        if (settled) return;
        settled = true;
        resolve(a);
      };
      const req = (secure ? httpsRequest : httpRequest)(push.url, {
        method: "POST",
        headers: { ...push.headers, "content-length": String(push.body.length) },
        agent: secure ? this.#https : this.#http,
        // Redirects are not followed (node:http never does): a push service answers where it is asked.
        ...(this.#publicOnly ? { lookup: publicOnlyLookup } : {}),
      });
      // Covers the answer's body too: a push service that trickles it keeps no socket for long.
      const timer = setTimeout(() => req.destroy(new Error("timed out")), TIMEOUT_MS);
      req.on("close", () => clearTimeout(timer));
      req.on("error", (e: NodeJS.ErrnoException) => settle({ failed: e.code ?? e.message }));
      req.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const header = res.headers["retry-after"];
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on("error", () => undefined);
        settle({ status, retryAfterMs: retryAfterMs(header, now()) });
      });
      req.end(push.body);
    });
  }

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }
}
