import { mkdirSync } from "node:fs";
import { open, rm, stat, statfs } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";

/**
 * Free space attachments leave on the data disk (1 GB): the database, which shares it, must always
 * find room for messages.
 */
const DISK_RESERVE_BYTES = 1_000_000_000;

/**
 * The bytes of encrypted attachments, one file per blob under `<data>/blobs`; their bookkeeping
 * (size, what was received, who must still fetch them) is in the Store.
 */
export class BlobFiles {
  readonly #dir: string;
  readonly #reserveBytes: number;

  constructor(dataDir: string, options: { reserveBytes?: number } = {}) {
    this.#dir = join(dataDir, "blobs");
    this.#reserveBytes = options.reserveBytes ?? DISK_RESERVE_BYTES;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  /** Whether a file of `size` bytes still leaves the reserve free on the disk holding the files. */
  async hasRoomFor(size: number): Promise<boolean> {
    const fs = await statfs(this.#dir).catch(() => undefined);
    // A file system that cannot tell is not refused: a full disk still fails the write itself.
    if (!fs) return true;
    return fs.bavail * fs.bsize - size >= this.#reserveBytes;
  }

  #path(blobId: string): string {
    return join(this.#dir, blobId);
  }

  /** Creates the empty file, so that every chunk is a positioned write. */
  async create(blobId: string): Promise<void> {
    await (await open(this.#path(blobId), "w", 0o600)).close();
  }

  /** Writes a chunk at `offset` and syncs it: an upload's progress counts only once on disk. */
  async write(blobId: string, chunk: Buffer, offset: number): Promise<void> {
    const fh = await open(this.#path(blobId), "r+");
    try {
      await fh.write(chunk, 0, chunk.length, offset);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** The file's size, or undefined if it is gone. */
  async size(blobId: string): Promise<number | undefined> {
    return (await stat(this.#path(blobId)).catch(() => undefined))?.size;
  }

  /** Opens the file for reading; the caller closes it. */
  openForReading(blobId: string): Promise<FileHandle> {
    return open(this.#path(blobId), "r");
  }

  async remove(blobId: string): Promise<void> {
    await rm(this.#path(blobId), { force: true });
  }
}
