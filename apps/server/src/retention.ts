import type { Logger } from "./logger.ts";
import type { Store } from "./store/store.ts";

/** What the retention job needs to delete attachment files. */
export type BlobFiles = { remove(blobId: string): Promise<void> };

const CHUNK = 500;
const MAX_CHUNKS = 200;

/**
 * Deletes what the server must not keep: disappearing messages whose time has come (checked every
 * `expiryIntervalMs`, default 1 s, a cheap indexed read when nothing is due), messages no device
 * fetched within the retention period, and expired or fully fetched attachments.
 */
export function startRetention(options: {
  store: Store;
  log: Logger;
  retentionDays: number;
  blobs: BlobFiles;
  expiryIntervalMs?: number;
}): { close(): void } {
  const { store, log, blobs } = options;
  let running: Promise<void> | undefined;

  const purgeExpired = async (): Promise<void> => {
    let messages = 0;
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const n = await store.purgeExpiredMessages(Date.now(), CHUNK);
      messages += n;
      if (n < CHUNK) break;
    }
    let files = 0;
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const ids = await store.expiredBlobs(Date.now(), CHUNK);
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
    let total = 0;
    const cutoff = Date.now() - options.retentionDays * 86_400_000;
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const n = await store.purgeUndelivered(cutoff, CHUNK);
      total += n;
      if (n < CHUNK) break;
    }
    if (total > 0) log.info("retention.purged_undelivered", { count: total });
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
