import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FileStorage } from "./file-storage.node.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

describe("FileStorage (one process per directory, values remembered in memory)", () => {
  it("reads back what it wrote, lists and deletes, and a new instance finds it all on disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sori-files-"));
    try {
      const a = new FileStorage(dir);
      assert.equal(await a.get("chat/1"), undefined);
      await a.put("chat/1", bytes("one"));
      await a.put("chat/2", bytes("two"));
      await a.put("other", bytes("x"));
      assert.equal(text(await a.get("chat/1")), "one");
      assert.deepEqual(await a.list("chat/"), ["chat/1", "chat/2"]);
      await a.delete("chat/2");
      assert.deepEqual(await a.list("chat/"), ["chat/1"]);
      assert.equal(await a.get("chat/2"), undefined);
      await a.put("chat/3", bytes("three"));
      assert.deepEqual(await a.list("chat/"), ["chat/1", "chat/3"]);
      a.release();
      const b = new FileStorage(dir);
      assert.deepEqual(await b.list("chat/"), ["chat/1", "chat/3"]);
      assert.equal(text(await b.get("chat/3")), "three");
      assert.equal(text(await b.get("other")), "x");
      b.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hands out copies: changing a value read or written does not change what is stored", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sori-files-"));
    try {
      const s = new FileStorage(dir);
      const written = bytes("abc");
      await s.put("k", written);
      written[0] = 0x7a;
      const read = (await s.get("k"))!;
      assert.equal(text(read), "abc");
      read[1] = 0x7a;
      assert.equal(text(await s.get("k")), "abc");
      assert.equal(readFileSync(join(dir, "k"), "utf8"), "abc");
      s.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("still reads values too large to keep in memory, each time from disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sori-files-"));
    try {
      const s = new FileStorage(dir);
      const big = new Uint8Array(2 * 1024 * 1024).fill(7);
      await s.put("big", big);
      assert.equal((await s.get("big"))!.length, big.length);
      assert.equal((await s.get("big"))![12345], 7);
      s.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
