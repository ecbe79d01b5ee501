import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { saveDownload } from "./downloads.ts";

describe("saving received files", () => {
  it("keeps names inside the download directory and never overwrites", () => {
    const dir = mkdtempSync(join(tmpdir(), "sori-dl-"));
    try {
      const a = saveDownload(dir, "../../etc/passwd", new Uint8Array([1]));
      assert.equal(dirname(a), dir);
      assert.equal(a, join(dir, "passwd"));
      const b = saveDownload(dir, "passwd", new Uint8Array([2]));
      assert.equal(b, join(dir, "passwd (1)"));
      assert.deepEqual([...readFileSync(a)], [1]);
      assert.equal(saveDownload(dir, "..\\x\\.hidden", new Uint8Array()), join(dir, "hidden"));
      assert.equal(saveDownload(dir, "", new Uint8Array()), join(dir, "file"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
