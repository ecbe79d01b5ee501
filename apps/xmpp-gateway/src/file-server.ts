import { createReadStream } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "@sori/server";
import type { HostedFile, HostedFiles } from "./hosted-files.ts";

/** Connections the file server keeps at once; more wait in the kernel's backlog. */
const MAX_CONNECTIONS = 256;
/** A request's headers must arrive within this (slow-loris). */
const HEADERS_TIMEOUT_MS = 10_000;
/** What is shown inline by a browser: media. Anything else (HTML, SVG, scripts) is an attachment. */
const INLINE = /^(image\/(png|jpeg|gif|webp|avif|heic|heif)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+)$/;
/** RFC 6838 type and subtype names; anything else is served as application/octet-stream. */
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export type FileServerOptions = {
  files: HostedFiles;
  host: string;
  port: number;
  /** PEM certificate chain and key: HTTPS. Without them, plain HTTP (behind a TLS proxy, or tests). */
  tls?: { cert: string; key: string };
  /** The path the public URL's links start with (a proxy may pass it on or strip it: both work). */
  basePath: string;
  log: Logger;
};

export type FileServer = { port: number; close(): Promise<void> };

/**
 * Serves hosted files at `<base>/<token>/<name>` (GET and HEAD, one byte range for resuming and
 * seeking). Unknown, malformed and expired tokens get the same 404. Every answer says what it is
 * and nothing more: the file's own type (or octet-stream), nosniff, a sandboxing CSP, a
 * Content-Disposition that no file name can break out of, no referrer.
 */
export async function startFileServer(o: FileServerOptions): Promise<FileServer> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      serve(o, req, res);
    } catch (error) {
      o.log.warn("xmpp.file_serve_failed", { reason: (error as Error).name });
      if (!res.headersSent) plain(res, 500, "error\n");
      else res.destroy();
    }
  };
  const server: Server = o.tls
    ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handle)
    : createHttpServer(handle);
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 2 * HEADERS_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => o.log.warn("xmpp.file_server_error", { reason: error.name }));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function serve(o: FileServerOptions, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    plain(res, 405, "method not allowed\n");
    return;
  }
  const f = o.files.byToken(tokenOf(req.url ?? "/", o.basePath));
  if (!f) {
    plain(res, 404, "not found\n");
    return;
  }
  const range = parseRange(req.headers.range, f.size);
  if (range === "unsatisfiable") {
    res.setHeader("content-range", `bytes */${f.size}`);
    plain(res, 416, "range not satisfiable\n");
    return;
  }
  res.statusCode = range ? 206 : 200;
  setFileHeaders(res, f, o.tls !== undefined);
  if (range) res.setHeader("content-range", `bytes ${range.start}-${range.end}/${f.size}`);
  res.setHeader("content-length", range ? range.end - range.start + 1 : f.size);
  if (req.method === "HEAD" || f.size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(f.path, range ?? {});
  stream.once("error", () => {
    // Gone between the look-up and the read (swept, or the disk): the answer is cut, never wrong.
    if (!res.headersSent) plain(res, 404, "not found\n");
    else res.destroy();
  });
  stream.pipe(res);
}

/** The token in a request path: the first segment after the base path (if the proxy kept it). */
export function tokenOf(url: string, basePath: string): string {
  let path: string;
  try {
    path = new URL(url, "http://files.invalid").pathname;
  } catch {
    return "";
  }
  const base = basePath.replace(/\/+$/, "");
  if (base && (path === base || path.startsWith(`${base}/`))) path = path.slice(base.length);
  return path.split("/")[1] ?? "";
}

function setFileHeaders(res: ServerResponse, f: HostedFile, tls: boolean): void {
  const mime = safeMime(f.mime);
  res.setHeader("content-type", mime);
  res.setHeader("content-disposition", contentDisposition(f.name, INLINE.test(mime)));
  res.setHeader("x-content-type-options", "nosniff");
  // Whatever the bytes are, a browser that opens them runs nothing and loads nothing.
  res.setHeader("content-security-policy", "default-src 'none'; sandbox");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("accept-ranges", "bytes");
  const left = Math.max(0, Math.floor((f.expiresAt - Date.now()) / 1000));
  res.setHeader("cache-control", `private, max-age=${left}`);
  if (tls) res.setHeader("strict-transport-security", "max-age=31536000");
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}

/** The file's MIME type if it is a well-formed type/subtype (lower case, no parameters). */
export function safeMime(mime: string): string {
  const m = mime.split(";")[0]!.trim().toLowerCase();
  return MIME.test(m) ? m : "application/octet-stream";
}

/**
 * RFC 6266: an ASCII fallback name (anything outside printable ASCII, and quotes and backslashes,
 * become "_") and the exact name as RFC 8187 UTF-8 percent-encoding. Neither can hold a CR, LF or
 * quote, so a file name cannot add a header or end the value.
 */
export function contentDisposition(name: string, inline: boolean): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%;]/g, "_") || "file";
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${inline ? "inline" : "attachment"}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * One `bytes=` range (a client resuming or seeking); undefined for none, a malformed one or several
 * (the whole file is then sent, as RFC 9110 allows); "unsatisfiable" when it starts past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = header === undefined ? null : /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  if (end < start) return undefined;
  return { start, end };
}
