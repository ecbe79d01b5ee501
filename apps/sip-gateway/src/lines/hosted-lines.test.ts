import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type HostedLine, HostedLines, LineStoreError } from "./hosted-lines.ts";

const line: HostedLine = {
  id: "line-0001",
  owner: { userId: "alice-id", username: "alice" },
  name: "desk",
  authUser: "alice.line-000",
  realm: "sori",
  ha1: { md5: "0".repeat(32), sha256: "1".repeat(64) },
  createdAt: 1,
};

test("lines and bindings survive a reopen, in a file only its owner can read", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sori-lines-test-"));
  try {
    const path = join(dir, "lines.json");
    const { lines } = await HostedLines.open(path);
    lines.put(line);
    await lines.save({ version: 1, bindings: [] });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const again = await HostedLines.open(path);
    assert.equal(again.skipped, 0);
    assert.deepEqual(again.lines.get("line-0001"), line);
    assert.equal(again.lines.byAuthUser("alice.line-000")?.id, "line-0001");
    assert.ok(again.lines.hasOwnerNamed("ALICE"));
    assert.deepEqual(again.lines.savedBindings, { version: 1, bindings: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a damaged entry is skipped and counted; a file that is not a line file stops the start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sori-lines-test-"));
  try {
    const path = join(dir, "lines.json");
    writeFileSync(path, JSON.stringify({ version: 1, lines: [line, { ...line, id: "x", ha1: "no" }] }));
    const opened = await HostedLines.open(path);
    assert.equal(opened.skipped, 1);
    assert.equal(opened.lines.size, 1);
    // Saving keeps the entry it could not read, for its operator to repair.
    await opened.lines.save({ version: 1, bindings: [] });
    assert.equal((await HostedLines.open(path)).skipped, 1);
    writeFileSync(path, "{ not json");
    await assert.rejects(HostedLines.open(path), LineStoreError);
    writeFileSync(path, JSON.stringify({ version: 2 }));
    await assert.rejects(HostedLines.open(path), /not a gateway line file/);
    assert.equal(readFileSync(path, "utf8"), JSON.stringify({ version: 2 }), "the file is left as it was");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
