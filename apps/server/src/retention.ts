import type { BlobFiles } from "./blob-files.ts";
import type { Logger } from "./logger.ts";
import type { Store } from "./store/store.ts";

const CHUNK = 500;
const MAX_CHUNKS = 200;
/** Message ids are remembered (to recognise resends) for this long. */
const SEEN_RETENTION_MS = 30 * 86_400_000;
const SEEN_CHUNK = 2000;
const SEEN_MAX_CHUNKS = 500;

/**
 * Runs `step` (one bounded deletion of at most `chunk`, returning how many it deleted) until it
 * deletes less than a chunk or has run `maxChunks` times, pausing `pauseMs` between chunks; the total.
 */
async function inChunks(
  step: (chunk: number) => Promise<number>,
  chunk: number,
  maxChunks: number,
  pauseMs = 0,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxChunks; i++) {
    const n = await step(chunk);
    total += n;
    if (n < chunk) break;
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return total;
}

/**
 * Deletes what the server must not keep: disappearing messages whose time has come (checked every
 * `expiryIntervalMs`, default 1 s, a cheap indexed read when nothing is due), messages no device
 * fetched within the retention period, and expired or fully fetched attachments.
 */
/** How long a device may wait for approval before it is signed out. */
const PENDING_DEVICE_TTL_MS = 86_400_000;

export function startRetention(options: {
  store: Store;
  log: Logger;
  retentionDays: number;
  blobs: Pick<BlobFiles, "remove">;
  expiryIntervalMs?: number;
  /** Devices revoked by retention (stale sign-ins): their connections are closed. */
  signedOut?: (deviceIds: string[], reason: string) => void;
}): { close(): void } {
  const { store, log, blobs } = options;
  let running: Promise<void> | undefined;

  const purgeExpired = async (): Promise<void> => {
    const messages = await inChunks((n) => store.purgeExpiredMessages(Date.now(), n), CHUNK, MAX_CHUNKS);
    let files = 0;
    for (let i = 0; i < MAX_CHUNKS; i++) {
      // Retention counts from the upload: no message, forward or expiry keeps a file longer.
      const ids = await store.expiredBlobs(
        Date.now(),
        Date.now() - options.retentionDays * 86_400_000,
        CHUNK,
      );
      // Files first: a crash in between leaves a record whose file is gone (deleted again next time),
      // never a file nobody knows about.
      for (const id of ids) await blobs.remove(id);
      if (ids.length > 0) await store.deleteBlobRecords(ids);
      files += ids.length;
      if (ids.length < CHUNK) break;
    }
    if (messages > 0) log.info("retention.expired_messages", { count: messages });
    if (files > 0) log.info("retention.deleted_blobs", { count: files });
  };

  const purgeOld = async (): Promise<void> => {
    const cutoff = Date.now() - options.retentionDays * 86_400_000;
    const total = await inChunks((n) => store.purgeUndelivered(cutoff, n), CHUNK, MAX_CHUNKS);
    if (total > 0) log.info("retention.purged_undelivered", { count: total });
    // A sign-in nobody approved within a day is signed out: it must not sit in the account for ever.
    const expired = await store.expirePendingDevices(Date.now() - PENDING_DEVICE_TTL_MS, Date.now());
    if (expired.length > 0) {
      options.signedOut?.(expired, "this sign-in was not approved in time");
      log.info("retention.expired_pending_devices", { count: expired.length });
    }
  };

  const run = (job: () => Promise<void>): Promise<void> => {
    // One pass at a time; a pass that fails is logged and tried again at the next tick.
    running ??= job()
      .catch(() => log.warn("retention.failed", {}))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const expiryTimer = setInterval(() => void run(purgeExpired), options.expiryIntervalMs ?? 1000);
  expiryTimer.unref();
  const retentionTimer = setInterval(() => void run(purgeOld), 3_600_000);
  retentionTimer.unref();
  void run(async () => {
    await purgeOld();
    await purgeExpired();
  });

  return {
    close: () => {
      clearInterval(expiryTimer);
      clearInterval(retentionTimer);
    },
  };
}

/**
 * Forgets message ids after 30 days (resends are recognised within that window), at start and then
 * hourly. In bounded chunks, each its own short transaction, so pruning never stalls delivery for long.
 */
export function startSeenPruning(options: { store: Pick<Store, "pruneSeen">; log: Logger }): {
  close(): void;
} {
  const { store, log } = options;
  const prune = async (): Promise<void> => {
    try {
      const total = await inChunks(
        (n) => store.pruneSeen(Date.now() - SEEN_RETENTION_MS, n),
        SEEN_CHUNK,
        SEEN_MAX_CHUNKS,
        10,
      );
      if (total > 0) log.info("store.pruned_seen", { count: total });
    } catch {
      log.warn("store.prune_failed", {});
    }
  };
  void prune();
  const timer = setInterval(() => void prune(), 3_600_000);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
