import { mkdirSync } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";

/**
 * The bytes of encrypted attachments, one file per blob under `<data>/blobs`; their bookkeeping
 * (size, what was received, who must still fetch them) is in the Store.
 */
export class BlobFiles {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, "blobs");
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
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
