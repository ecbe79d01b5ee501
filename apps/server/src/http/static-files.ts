import { createReadStream, type Stats } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Logger } from "../logger.ts";

const gzip = promisify(gzipCallback);

/**
 * Sent with every page and file, with the Content-Security-Policy of contentSecurityPolicy(). No framing
 * (clickjacking), no MIME sniffing, no referrer, and a browsing context group of its own.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

/** A Host header as a URL authority: a DNS name, IPv4 or [IPv6] literal, and an optional port. Nothing else. */
const HOST_PATTERN =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/**
 * The app loads nothing from elsewhere: scripts only from this origin (no inline script, so injected
 * markup cannot run), no plugins, no framing, and network access only back to this server: its origin
 * over HTTP and the same host and port over WebSocket. Inline styles stay allowed because React sets
 * `style` attributes.
 *
 * CSP 3 lets 'self' match ws: and wss: of the page's own host and port. Chromium does (since version 71;
 * the app in Chromium 156 connected with 'self' alone when this was checked), Safari only from 16. So
 * the WebSocket form of the host the page was asked for (its Host header) is listed too: ws: and wss:
 * both, as behind a TLS proxy this server sees plain HTTP while the page is HTTPS. A Host that is not a
 * plain authority is never copied into the policy (the client writes it, and a proxy may cache the
 * answer): then 'self' alone.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const authority = host?.toLowerCase() ?? "";
  const sockets = HOST_PATTERN.test(authority) ? ` ws://${authority} wss://${authority}` : "";
  return (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    `connect-src 'self'${sockets}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`
  );
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".wasm": "application/wasm",
};

/** Types worth compressing (already-compressed formats like png and woff2 are not). */
const COMPRESSIBLE = new Set([
  ".html",
  ".js",
  ".mjs",
  ".css",
  ".svg",
  ".json",
  ".webmanifest",
  ".map",
  ".txt",
  ".ico",
]);

/** Below this, gzip saves less than the header and CPU cost. */
const MIN_COMPRESS_BYTES = 1024;
/** Files above this are streamed from disk as they are, never buffered or compressed on the fly. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
const MAX_CACHE_ENTRIES = 2048;

const NOT_BUILT_TEXT =
  "Sori server is running, but the web app is not built.\n\n" +
  "Build it with:\n\n    npm run build -w @sori/web\n\n" +
  "then reload this page (or start the server with `npm start`, which builds it first).\n" +
  "Meanwhile the `sori` command-line client works: see README.md.\n";

export type StaticFilesOptions = {
  /** The built web app (Vite's output directory, holding index.html and assets/). */
  webDir: string;
  log: Logger;
  /** Upper bound of the in-memory cache of gzipped files. */
  cacheBytes?: number;
};

/** Serves the built web app: files, the single-page-app fallback and the "not built" notice. */
export type StaticFiles = {
  /** Answers a request for a non-API path. Never throws: failures become 4xx/5xx answers. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Whether index.html exists (for the startup log). */
  built(): Promise<boolean>;
};

type Compressed = { mtimeMs: number; size: number; body: Buffer };

/** Thrown for request paths that try to leave the web directory or are malformed. */
class BadPathError extends Error {
  readonly code = "bad-path";
  constructor(message: string) {
    super(message);
    this.name = "BadPathError";
  }
}

export function createStaticFiles(options: StaticFilesOptions): StaticFiles {
  const webDir = resolve(options.webDir);
  const log = options.log;
  const cacheLimit = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  // Least recently used first (Map keeps insertion order; a hit re-inserts).
  const cache = new Map<string, Compressed>();
  const inflight = new Map<string, Promise<Buffer>>();
  let cachedBytes = 0;
  let realWebDir: string | undefined;

  const remember = (file: string, entry: Compressed): void => {
    const old = cache.get(file);
    if (old) {
      cache.delete(file);
      cachedBytes -= old.body.length;
    }
    if (entry.body.length > cacheLimit / 4) return;
    cache.set(file, entry);
    cachedBytes += entry.body.length;
    for (const [key, value] of cache) {
      if (cachedBytes <= cacheLimit && cache.size <= MAX_CACHE_ENTRIES) break;
      cache.delete(key);
      cachedBytes -= value.body.length;
    }
  };

  const compressed = async (file: string, info: Stats): Promise<Buffer> => {
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) {
      cache.delete(file);
      cache.set(file, hit);
      return hit.body;
    }
    const key = `${file}\0${info.mtimeMs}\0${info.size}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = readFile(file)
        .then((raw) => gzip(raw, { level: 9 }))
        .then((body) => {
          remember(file, { mtimeMs: info.mtimeMs, size: info.size, body });
          return body;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  };

  /** The regular file at `file`, if it exists and (after symlinks) lies inside the web dir. */
  const regularFile = async (file: string): Promise<Stats | undefined> => {
    let info: Stats;
    try {
      info = await stat(file);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    realWebDir ??= await realpath(webDir);
    const real = await realpath(file);
    return real.startsWith(realWebDir + sep) ? info : undefined;
  };

  const sendText = (req: IncomingMessage, res: ServerResponse, status: number, text: string): void => {
    const body = Buffer.from(text, "utf8");
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      "content-security-policy": contentSecurityPolicy(req.headers.host),
      "content-type": "text/plain; charset=utf-8",
      "content-length": body.length,
      "cache-control": "no-store",
      ...(status === 405 ? { allow: "GET, HEAD" } : {}),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const sendFile = async (
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    info: Stats,
    cacheControl: string,
  ): Promise<void> => {
    const ext = extname(file).toLowerCase();
    const compressible = COMPRESSIBLE.has(ext);
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      "content-security-policy": contentSecurityPolicy(req.headers.host),
      "content-type": CONTENT_TYPES[ext] ?? "application/octet-stream",
      "cache-control": cacheControl,
      etag,
      ...(compressible ? { vary: "Accept-Encoding" } : {}),
    };
    if (etagMatches(req.headers["if-none-match"], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const head = req.method === "HEAD";
    const gzipOk = compressible && acceptsGzip(req.headers["accept-encoding"]);
    if (gzipOk) {
      // A sibling compressed at build time wins: it costs nothing per request.
      const gzFile = `${file}.gz`;
      const gzInfo = await regularFile(gzFile);
      if (gzInfo && gzInfo.mtimeMs >= info.mtimeMs) {
        const body = await readFile(gzFile);
        res.writeHead(200, { ...headers, "content-encoding": "gzip", "content-length": body.length });
        res.end(head ? undefined : body);
        return;
      }
      if (info.size > MIN_COMPRESS_BYTES && info.size <= MAX_BUFFERED_BYTES) {
        const body = await compressed(file, info);
        res.writeHead(200, { ...headers, "content-encoding": "gzip", "content-length": body.length });
        res.end(head ? undefined : body);
        return;
      }
    }
    if (info.size > MAX_BUFFERED_BYTES) {
      res.writeHead(200, { ...headers, "content-length": info.size });
      if (head) {
        res.end();
        return;
      }
      const stream = createReadStream(file);
      stream.on("error", () => res.destroy());
      stream.pipe(res);
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { ...headers, "content-length": body.length });
    res.end(head ? undefined : body);
  };

  const serveIndex = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const index = resolve(webDir, "index.html");
    const info = await regularFile(index);
    if (!info) return sendText(req, res, 200, NOT_BUILT_TEXT);
    // Revalidated every time: it names the current hashed assets, so a stale copy would load old code.
    return sendFile(req, res, index, info, "no-cache");
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(req, res, 405, "method not allowed\n");
    const path = requestPath(req.url ?? "/");
    if (path === "/" || path === "/index.html") return serveIndex(req, res);
    const segments = path.split("/").filter((s) => s !== "");
    // Dotfiles (.git, .env, editor leftovers) are never part of the app.
    if (segments.some((s) => s.startsWith("."))) return sendText(req, res, 404, "not found\n");
    const file = resolve(webDir, ...segments);
    if (!file.startsWith(webDir + sep)) throw new BadPathError("path leaves the web directory");
    const isAsset = segments[0] === "assets";
    const info = await regularFile(file);
    if (info) {
      // Vite names everything under assets/ by content hash: a changed file gets a new name.
      return sendFile(req, res, file, info, isAsset ? "public, max-age=31536000, immutable" : "no-cache");
    }
    const last = segments.at(-1) ?? "";
    // Missing files 404; anything else is a route of the single-page app, which index.html handles.
    if (isAsset || extname(last) !== "") return sendText(req, res, 404, "not found\n");
    return serveIndex(req, res);
  };

  return {
    serve: async (req, res) => {
      try {
        await route(req, res);
      } catch (error) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (error instanceof BadPathError) {
          log.debug("static.bad_path", {});
          return sendText(req, res, 400, "bad request path\n");
        }
        log.error("static.failed", {
          error: error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : "unknown",
        });
        sendText(req, res, 500, "internal server error\n");
      }
    },
    built: async () =>
      (await regularFile(resolve(webDir, "index.html")).catch(() => undefined)) !== undefined,
  };
}

/**
 * The decoded path of a request target, refusing anything that could name a file outside the web
 * directory however it is spelled: "..", "%2e%2e", "..%2f", backslashes, NUL, "//".
 */
function requestPath(target: string): string {
  const raw = target.split("?")[0]!.split("#")[0]!;
  if (!raw.startsWith("/")) throw new BadPathError("request target is not an absolute path");
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new BadPathError("malformed percent-encoding");
  }
  if (decoded.includes("\0") || decoded.includes("\\")) throw new BadPathError("forbidden character");
  if (decoded.split("/").some((s) => s === ".." || s === "."))
    throw new BadPathError("dot segments are not allowed");
  // "//etc/passwd" names no route of the app; refuse it rather than guess what was meant.
  if (decoded.includes("//")) throw new BadPathError("empty path segment");
  return decoded;
}

function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(",").slice(0, 32)) {
    const [name = "", ...params] = part.split(";").map((p) => p.trim());
    if (name.toLowerCase() !== "gzip" && name !== "*") continue;
    const q = params.find((p) => p.toLowerCase().startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  // Weak comparison, as If-None-Match requires.
  const bare = etag.replace(/^W\//, "");
  return header
    .split(",")
    .slice(0, 64)
    .some((t) => t.trim().replace(/^W\//, "") === bare);
}
