import { mkdirSync } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  API_PREFIX,
  BLOB_CHUNK_BYTES,
  BlobCreateRequest,
  type BlobCreateResponse,
  type BlobStatusResponse,
  ProtocolError,
  toBase64Url,
} from "@sori/protocol";
import { sendJson } from "./json-response.ts";
import type { Logger } from "./logger.ts";
import type { Store } from "./store/store.ts";

const DRAIN_BYTES = 4 * 1024 * 1024;
/** Uploads per device not yet referred to by a message (a sticker pack needs up to 100). */
const MAX_UNSENT = 120;
/** An upload nobody sends a message about is deleted after this long. */
const UNREFERENCED_MS = 24 * 3_600_000;

type Caller = { userId: string; deviceId: string };

/**
 * Encrypted attachments over HTTP (`/api/v1/blobs`): create, upload in chunks at an offset (resumable),
 * status, and download with Range. The bytes are AES-GCM ciphertext made by the client: the server
 * can neither read nor check them. Files live in `<data>/blobs/<id>`, bookkeeping in the Store.
 */
export class BlobStore {
  readonly #dir: string;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #maxBytes: number;
  /** One upload at a time per blob: offsets are checked and advanced in order. */
  readonly #busy = new Set<string>();

  constructor(options: { dataDir: string; store: Store; log: Logger; maxFileBytes: number }) {
    this.#dir = join(options.dataDir, "blobs");
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    this.#store = options.store;
    this.#log = options.log;
    this.#maxBytes = options.maxFileBytes;
  }

  #path(blobId: string): string {
    return join(this.#dir, blobId);
  }

  async remove(blobId: string): Promise<void> {
    await rm(this.#path(blobId), { force: true });
  }

  /**
   * Handles a request under /api/v1/blobs; false if the path is not one of ours. `auth` resolves the
   * bearer token (throws "unauthenticated").
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    auth: (req: IncomingMessage) => Promise<Caller>,
    readJson: (req: IncomingMessage) => Promise<unknown>,
  ): Promise<boolean> {
    const path = url.pathname;
    const method = req.method ?? "GET";
    const base = `${API_PREFIX}/blobs`;
    if (path === base && method === "POST") {
      const caller = await auth(req);
      const parsed = BlobCreateRequest.safeParse(await readJson(req));
      if (!parsed.success) throw new ProtocolError("bad-request", "expected {size}: a byte count");
      const { size } = parsed.data;
      if (size > this.#maxBytes)
        throw new ProtocolError("too-large", `files can be at most ${this.#maxBytes} bytes`, {
          limit: this.#maxBytes,
        });
      // Uploads nobody sends are kept a day; a cap on them keeps one device from filling the disk.
      if ((await this.#store.unsentBlobs(caller.deviceId, Date.now())) >= MAX_UNSENT)
        throw new ProtocolError(
          "rate-limited",
          `at most ${MAX_UNSENT} files may wait to be sent; send or wait`,
          {
            retryAfterS: 3600,
          },
        );
      const blobId = toBase64Url(randomBytes(16));
      const now = Date.now();
      await this.#store.createBlob({
        blobId,
        ownerDevice: caller.deviceId,
        size,
        createdAt: now,
        expiresAt: now + UNREFERENCED_MS,
      });
      // The file exists from the start so every chunk is a positioned write.
      await (await open(this.#path(blobId), "w", 0o600)).close();
      this.#log.info("blob.created", { blob: blobId, device: caller.deviceId, size });
      sendJson(res, 201, { blobId, chunkBytes: BLOB_CHUNK_BYTES } satisfies BlobCreateResponse);
      return true;
    }
    const m = path.match(/^\/api\/v1\/blobs\/([A-Za-z0-9_-]{22})(\/status)?$/);
    if (!m) {
      if (path.startsWith(`${base}/`) || path === base)
        throw new ProtocolError("not-found", `no endpoint ${method} ${path}`);
      return false;
    }
    const blobId = m[1]!;
    const caller = await auth(req);
    const blob = await this.#store.getBlob(blobId);
    if (!blob || blob.expiresAt <= Date.now())
      throw new ProtocolError("not-found", "no such file (or it expired)");
    if (m[2]) {
      if (method !== "GET") throw new ProtocolError("not-found", `no endpoint ${method} ${path}`);
      sendJson(res, 200, { size: blob.size, received: blob.received } satisfies BlobStatusResponse);
      return true;
    }
    if (method === "PUT") {
      if (blob.ownerDevice !== caller.deviceId)
        throw new ProtocolError("forbidden", "only the uploading device can write this file");
      const offset = Number(url.searchParams.get("offset"));
      if (!Number.isInteger(offset) || offset !== blob.received)
        throw new ProtocolError("bad-request", `upload must continue at offset ${blob.received}`, {
          received: blob.received,
        });
      if (this.#busy.has(blobId))
        throw new ProtocolError("rate-limited", "another upload of this file is running", { retryAfterS: 1 });
      this.#busy.add(blobId);
      try {
        const room = Math.min(BLOB_CHUNK_BYTES, blob.size - offset);
        const body = await readBody(req, room);
        if (body.length === 0 && blob.size > 0) throw new ProtocolError("bad-request", "empty chunk");
        const fh = await open(this.#path(blobId), "r+");
        try {
          await fh.write(body, 0, body.length, offset);
          await fh.sync();
        } finally {
          await fh.close();
        }
        const received = offset + body.length;
        await this.#store.setBlobReceived(blobId, received);
        sendJson(res, 200, { size: blob.size, received } satisfies BlobStatusResponse);
      } finally {
        this.#busy.delete(blobId);
      }
      return true;
    }
    if (method === "DELETE") {
      // "I have it" from a recipient device (after checking the hash): once all have said so, the
      // server's copy goes. Not tied to a download finishing, so a cut-off download can resume.
      await this.#store.blobFetched(blobId, caller.deviceId, Date.now());
      res.writeHead(204).end();
      return true;
    }
    if (method === "GET") {
      if (blob.received !== blob.size)
        throw new ProtocolError("not-found", "this file is not completely uploaded yet");
      await this.#download(req, res, blobId, blob.size);
      return true;
    }
    throw new ProtocolError("not-found", `no endpoint ${method} ${path}`);
  }

  async #download(req: IncomingMessage, res: ServerResponse, blobId: string, size: number): Promise<void> {
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    if (range) {
      const r = range.match(/^bytes=(\d+)-(\d*)$/);
      if (!r) throw new ProtocolError("bad-request", "Range must be bytes=START- or bytes=START-END");
      start = Number(r[1]);
      if (r[2]) end = Math.min(Number(r[2]), size - 1);
      if (start > end && size > 0)
        throw new ProtocolError("bad-request", `range starts past the end (${size} bytes)`);
    }
    const actual = (await stat(this.#path(blobId)).catch(() => undefined))?.size;
    if (actual !== size) throw new ProtocolError("not-found", "no such file (or it expired)");
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": String(length),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
    });
    const fh = await open(this.#path(blobId), "r");
    try {
      const buf = Buffer.alloc(Math.min(256 * 1024, Math.max(1, length)));
      let pos = start;
      while (pos <= end && length > 0) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos + 1), pos);
        if (bytesRead === 0) break;
        if (!res.write(buf.subarray(0, bytesRead))) await new Promise((r) => res.once("drain", r));
        pos += bytesRead;
        if (res.destroyed) return;
      }
    } finally {
      await fh.close();
    }
    await new Promise<void>((resolve) => res.end(resolve));
  }
}

/** Reads a raw body of at most `max` bytes; more is a typed too-large error. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit the rest is read and dropped so the client gets the 413 rather than a reset
    // connection; far past it the connection is cut.
    if (size > max + DRAIN_BYTES) {
      req.destroy();
      break;
    }
    if (size <= max) chunks.push(chunk);
  }
  if (size > max)
    throw new ProtocolError("too-large", `a chunk can have at most ${max} bytes here`, { limit: max });
  return Buffer.concat(chunks);
}
