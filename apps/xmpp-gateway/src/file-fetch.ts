import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { type ClientRequest, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isPrivateAddress } from "@sori/server";
import { ConcurrencyLimit } from "./concurrency-limit.ts";
import { safeMime } from "./file-server.ts";

/** What a Sori attachment may be by default: the Sori server's own default limit (--max-file-mb 100). */
const DEFAULT_MAX_FILE_BYTES = 100_000_000;
const CONNECT_TIMEOUT_MS = 10_000;
const TOTAL_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 3;
/** Fetches one XMPP address may have under way; more from it are refused at once. */
const PER_SOURCE = 2;
/** Fetches under way together (each holds its file in memory); more wait in line. */
const CONCURRENT = 4;
/** Fetches waiting for a place; more are refused at once ("busy"). */
const MAX_WAITING = 64;

/** Why a file was not fetched: a code, and what goes with it. */
export type FetchFailure =
  | { code: "bad-url" | "bad-scheme" | "private-address" | "timeout" | "unreachable" | "busy" }
  | { code: "too-many-redirects" }
  | { code: "http-status"; status: number }
  | { code: "too-large"; limit: number };

export type FetchedFile = { bytes: Uint8Array; name: string; mime: string };

export type FetchOutcome = { ok: true; file: FetchedFile } | { ok: false; failure: FetchFailure };

export type FileFetchOptions = {
  /** Largest file taken (default DEFAULT_MAX_FILE_BYTES). */
  maxBytes?: number;
  /**
   * Fetch from loopback, private and link-local addresses too. Off by default: an XMPP user could
   * otherwise have the gateway read what only its own network reaches (SSRF) and send it to Sori.
   */
  allowPrivateAddresses?: boolean;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
};

/** A sentence for the Sori user on why a file did not come through. */
export function failureText(f: FetchFailure): string {
  switch (f.code) {
    case "bad-url":
      return "its address is not a URL";
    case "bad-scheme":
      return "only http and https links are fetched";
    case "private-address":
      return "it is on a private network address";
    case "timeout":
      return "it took too long to download";
    case "unreachable":
      return "its server could not be reached";
    case "busy":
      return "the gateway is fetching too many files now";
    case "too-many-redirects":
      return "it redirects too often";
    case "http-status":
      return `its server answered ${f.status}`;
    case "too-large":
      return `it is larger than ${formatBytes(f.limit)}`;
  }
}

function formatBytes(n: number): string {
  if (n >= 1_000_000) return `${Math.round(n / 100_000) / 10} MB`;
  if (n >= 1000) return `${Math.round(n / 100) / 10} kB`;
  return `${n} bytes`;
}

class FetchError extends Error {
  readonly failure: FetchFailure;
  constructor(failure: FetchFailure) {
    super(failure.code);
    this.name = "FetchError";
    this.failure = failure;
  }
}

/**
 * Fetches the files XMPP users point to (XEP-0066 URLs, XEP-0363 uploads): http and https only, at
 * most a few redirects (each checked again), no private addresses unless allowed (checked on the
 * address actually connected to, so DNS cannot point elsewhere after the check), bounded in size
 * (the announced length is checked first, then every byte counted), in connection and total time,
 * and in how many run at once, per XMPP address and together.
 */
export class FileFetcher {
  readonly #maxBytes: number;
  readonly #allowPrivate: boolean;
  readonly #connectTimeoutMs: number;
  readonly #totalTimeoutMs: number;
  readonly #perSource = new Map<string, number>();
  readonly #limit = new ConcurrencyLimit(CONCURRENT);
  /** Fetches running or waiting for a place. */
  #taken = 0;

  constructor(o: FileFetchOptions = {}) {
    this.#maxBytes = o.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#allowPrivate = o.allowPrivateAddresses ?? false;
    this.#connectTimeoutMs = o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.#totalTimeoutMs = o.totalTimeoutMs ?? TOTAL_TIMEOUT_MS;
  }

  /** Fetches `url` for the XMPP address `source`. Never throws: a failure says why. */
  async fetch(url: string, source: string): Promise<FetchOutcome> {
    const mine = this.#perSource.get(source) ?? 0;
    if (mine >= PER_SOURCE || this.#taken >= CONCURRENT + MAX_WAITING)
      return { ok: false, failure: { code: "busy" } };
    this.#perSource.set(source, mine + 1);
    this.#taken++;
    try {
      return await this.#limit.run(async () => {
        try {
          return { ok: true, file: await this.#fetch(url) };
        } catch (error) {
          if (error instanceof FetchError) return { ok: false, failure: error.failure };
          return { ok: false, failure: { code: "unreachable" } };
        }
      });
    } finally {
      this.#taken--;
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left > 0) this.#perSource.set(source, left);
      else this.#perSource.delete(source);
    }
  }

  async #fetch(first: string): Promise<FetchedFile> {
    const deadline = AbortSignal.timeout(this.#totalTimeoutMs);
    let url = this.#check(first);
    for (let hop = 0; ; hop++) {
      const res = await this.#get(url, deadline);
      const location = res.headers.location;
      if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.destroy();
        if (hop >= MAX_REDIRECTS) throw new FetchError({ code: "too-many-redirects" });
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new FetchError({ code: "bad-url" });
        }
        url = this.#check(next.href);
        continue;
      }
      if (res.statusCode !== 200) {
        res.destroy();
        throw new FetchError({ code: "http-status", status: res.statusCode ?? 0 });
      }
      const bytes = await this.#body(res, deadline);
      return {
        bytes,
        name: fileNameOf(url),
        mime: safeMime(res.headers["content-type"] ?? "application/octet-stream"),
      };
    }
  }

  /** The URL if it may be fetched at all: http or https, and not an IP literal it must not reach. */
  #check(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new FetchError({ code: "bad-url" });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new FetchError({ code: "bad-scheme" });
    if (url.username || url.password) throw new FetchError({ code: "bad-url" });
    const host = url.hostname.replace(/^\[|\]$/g, "");
    // IP literals are connected to without a look-up, so they are checked here.
    if (isIP(host) !== 0 && !this.#allowPrivate && isPrivateAddress(host))
      throw new FetchError({ code: "private-address" });
    return url;
  }

  #get(url: URL, deadline: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = url.protocol === "https:" ? httpsRequest : httpRequest;
      let req: ClientRequest;
      try {
        req = request(url, {
          method: "GET",
          // No keep-alive pool: every connection is made (and its address checked) for this fetch.
          agent: false,
          headers: { "user-agent": "Sori-XMPP-gateway", accept: "*/*", "accept-encoding": "identity" },
          lookup: this.#lookup,
          signal: deadline,
        });
      } catch {
        reject(new FetchError({ code: "bad-url" }));
        return;
      }
      const connectTimer = setTimeout(
        () => req.destroy(new FetchError({ code: "timeout" })),
        this.#connectTimeoutMs,
      );
      req.once("socket", (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once("connect", () => clearTimeout(connectTimer));
      });
      req.once("response", (res) => {
        clearTimeout(connectTimer);
        resolve(res);
      });
      req.once("error", (error) => {
        clearTimeout(connectTimer);
        reject(fetchErrorOf(error, deadline));
      });
      req.end();
    });
  }

  async #body(res: IncomingMessage, deadline: AbortSignal): Promise<Uint8Array> {
    const announced = Number(res.headers["content-length"] ?? NaN);
    if (Number.isFinite(announced) && announced > this.#maxBytes) {
      res.destroy();
      throw new FetchError({ code: "too-large", limit: this.#maxBytes });
    }
    const parts: Buffer[] = [];
    let have = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        have += chunk.length;
        if (have > this.#maxBytes) {
          res.destroy();
          throw new FetchError({ code: "too-large", limit: this.#maxBytes });
        }
        parts.push(chunk);
      }
    } catch (error) {
      throw fetchErrorOf(error, deadline);
    }
    if (!res.complete) throw new FetchError({ code: "unreachable" });
    return new Uint8Array(Buffer.concat(parts, have));
  }

  /** dns.lookup, refusing private addresses (unless allowed) before anything connects to them. */
  readonly #lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, "", 0);
        return;
      }
      if (!this.#allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
        callback(new FetchError({ code: "private-address" }), "", 0);
        return;
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function fetchErrorOf(error: unknown, deadline: AbortSignal): FetchError {
  if (error instanceof FetchError) return error;
  if (deadline.aborted) return new FetchError({ code: "timeout" });
  return new FetchError({ code: "unreachable" });
}

/** The file name a URL ends in (XEP-0363 links end in it), made safe; "file" if it has none. */
export function fileNameOf(url: URL): string {
  const last = url.pathname.split("/").pop() ?? "";
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  // No control characters, directions or separators: the name is shown and saved by Sori apps.
  name = name.replace(/[\p{Cc}\p{Cf}\\/]/gu, "_").trim();
  return name === "" || name === "." || name === ".." ? "file" : name.slice(0, 255);
}
