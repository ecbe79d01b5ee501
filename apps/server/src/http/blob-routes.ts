import type { IncomingMessage, ServerResponse } from "node:http";
import {
  API_PREFIX,
  BLOB_CHUNK_BYTES,
  BlobCreateRequest,
  type BlobCreateResponse,
  type BlobStatusResponse,
  ProtocolError,
} from "@sori/protocol";
import type { BlobFiles } from "../blob-files.ts";
import { newId } from "../ids.ts";
import type { Logger } from "../logger.ts";
import type { Caller, Sessions } from "../sessions.ts";
import type { BlobQuota, BlobRecord, Store } from "../store/store.ts";
import { readRaw } from "./body.ts";
import type { RequestContext, Route } from "./router.ts";

/** Uploads per device not yet referred to by a message (a sticker pack needs up to 100). */
const MAX_UNSENT = 120;
/** An upload nobody sends a message about is deleted after this long. */
const UNREFERENCED_MS = 24 * 3_600_000;

/**
 * Encrypted attachments over HTTP (`/api/v1/blobs`): create, upload in chunks at an offset (resumable),
 * status, and download with Range. The bytes are AES-GCM ciphertext made by the client: the server
 * can neither read nor check them.
 */
export function blobRoutes(options: {
  files: BlobFiles;
  store: Store;
  sessions: Sessions;
  log: Logger;
  maxFileBytes: number;
  /** Caps on the attachment bytes one account, and the whole server, may store (0: none). */
  quota: BlobQuota;
}): Route[] {
  const { files, store, sessions, log, maxFileBytes, quota } = options;
  /** One upload at a time per blob: offsets are checked and advanced in order. */
  const busy = new Set<string>();

  const create = async (ctx: RequestContext): Promise<void> => {
    const caller = await sessions.approvedBearer(ctx.req);
    const parsed = BlobCreateRequest.safeParse(await ctx.readJson());
    if (!parsed.success) throw new ProtocolError("bad-request", "expected {size}: a byte count");
    const { size } = parsed.data;
    if (size > maxFileBytes)
      throw new ProtocolError("too-large", `files can be at most ${maxFileBytes} bytes`, {
        limit: maxFileBytes,
      });
    // Uploads nobody sends are kept a day; a cap on them keeps one device from filling the disk.
    if ((await store.unsentBlobs(caller.deviceId, Date.now())) >= MAX_UNSENT)
      throw new ProtocolError(
        "rate-limited",
        `at most ${MAX_UNSENT} files may wait to be sent; send or wait`,
        {
          retryAfterS: 3600,
        },
      );
    if (!(await files.hasRoomFor(size))) {
      log.warn("blob.disk_full", { size });
      throw new ProtocolError(
        "storage-unavailable",
        "the server's disk is nearly full: it takes no files now; try again later",
      );
    }
    const blobId = newId();
    const now = Date.now();
    const created = await store.createBlob(
      { blobId, ownerDevice: caller.deviceId, size, createdAt: now, expiresAt: now + UNREFERENCED_MS },
      quota,
    );
    if (created.status === "account-full")
      throw new ProtocolError(
        "too-large",
        `this account's files waiting on the server may take ${quota.accountBytes} bytes and take ` +
          `${created.stored} already; they go once fetched (or after the retention period)`,
        { limit: quota.accountBytes, stored: created.stored },
      );
    if (created.status === "server-full") {
      log.warn("blob.server_full", { size, stored: created.stored });
      throw new ProtocolError(
        "storage-unavailable",
        "the server stores as many files as its operator allows: try again later",
        { limit: quota.totalBytes },
      );
    }
    await files.create(blobId);
    log.info("blob.created", { blob: blobId, device: caller.deviceId, size });
    ctx.json(201, { blobId, chunkBytes: BLOB_CHUNK_BYTES } satisfies BlobCreateResponse);
  };

  const upload = async (
    ctx: RequestContext,
    caller: Caller,
    blobId: string,
    blob: BlobRecord,
  ): Promise<void> => {
    if (blob.ownerDevice !== caller.deviceId)
      throw new ProtocolError("forbidden", "only the uploading device can write this file");
    const offset = Number(ctx.url.searchParams.get("offset"));
    if (!Number.isInteger(offset) || offset !== blob.received)
      throw new ProtocolError("bad-request", `upload must continue at offset ${blob.received}`, {
        received: blob.received,
      });
    if (busy.has(blobId))
      throw new ProtocolError("rate-limited", "another upload of this file is running", { retryAfterS: 1 });
    busy.add(blobId);
    try {
      const room = Math.min(BLOB_CHUNK_BYTES, blob.size - offset);
      const body = await readRaw(ctx.req, room);
      if (body.length === 0 && blob.size > 0) throw new ProtocolError("bad-request", "empty chunk");
      await files.write(blobId, body, offset);
      const received = offset + body.length;
      await store.setBlobReceived(blobId, received);
      ctx.json(200, { size: blob.size, received } satisfies BlobStatusResponse);
    } finally {
      busy.delete(blobId);
    }
  };

  const download = async (
    req: IncomingMessage,
    res: ServerResponse,
    blobId: string,
    size: number,
  ): Promise<void> => {
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
    if ((await files.size(blobId)) !== size)
      throw new ProtocolError("not-found", "no such file (or it expired)");
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": String(length),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
    });
    const fh = await files.openForReading(blobId);
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
  };

  // Every method on a blob's path: the caller is authenticated and the blob looked up before the
  // method is considered, as the client expects.
  const blobRequest = async (ctx: RequestContext): Promise<void> => {
    const blobId = ctx.params[0]!;
    const caller = await sessions.approvedBearer(ctx.req);
    const blob = await store.getBlob(blobId);
    if (!blob || blob.expiresAt <= Date.now())
      throw new ProtocolError("not-found", "no such file (or it expired)");
    const noEndpoint = new ProtocolError("not-found", `no endpoint ${ctx.method} ${ctx.path}`);
    if (ctx.params[1]) {
      if (ctx.method !== "GET") throw noEndpoint;
      ctx.json(200, { size: blob.size, received: blob.received } satisfies BlobStatusResponse);
      return;
    }
    switch (ctx.method) {
      case "PUT":
        return upload(ctx, caller, blobId, blob);
      case "DELETE":
        // "I have it" from a recipient device (after checking the hash): once all have said so, the
        // server's copy goes. Not tied to a download finishing, so a cut-off download can resume.
        await store.blobFetched(blobId, caller.deviceId, Date.now());
        ctx.res.writeHead(204).end();
        return;
      case "GET":
        if (blob.received !== blob.size)
          throw new ProtocolError("not-found", "this file is not completely uploaded yet");
        return download(ctx.req, ctx.res, blobId, blob.size);
      default:
        throw noEndpoint;
    }
  };

  return [
    { method: "POST", path: `${API_PREFIX}/blobs`, handle: create },
    { method: "*", path: /^\/api\/v1\/blobs\/([A-Za-z0-9_-]{22})(\/status)?$/, handle: blobRequest },
  ];
}
