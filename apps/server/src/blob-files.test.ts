import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BlobFiles } from "./blob-files.ts";

describe("BlobFiles", () => {
  it("has room for a file only if the disk keeps its reserve free afterwards", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sori-blobs-"));
    try {
      assert.equal(await new BlobFiles(dir, { reserveBytes: 0 }).hasRoomFor(1), true);
      // No disk has this much free: as on one that is nearly full.
      const nearlyFull = new BlobFiles(dir, { reserveBytes: Number.MAX_SAFE_INTEGER });
      assert.equal(await nearlyFull.hasRoomFor(1), false);
      assert.equal(await new BlobFiles(dir, { reserveBytes: 0 }).hasRoomFor(Number.MAX_SAFE_INTEGER), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
