import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "@sori/server";
import { HostedFiles, HostingError } from "./hosted-files.ts";

const log = createLogger("error", () => undefined);
const info = (expiresAt: number): { name: string; mime: string; expiresAt: number } => ({
  name: "a.bin",
  mime: "application/octet-stream",
  expiresAt,
});

describe("hosted files: tokens, expiry and the disk", () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), "sori-hosted-"));
    dirs.push(d);
    return join(d, "hosted-files");
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("gives a 256-bit random token per file, the same one for the same key, and files of mode 0600", async () => {
    const dir = fresh();
    const files = await HostedFiles.open(dir, { maxBytes: 1000, log });
    const a = await files.add("k1", new Uint8Array([1, 2, 3]), info(Date.now() + 60_000));
    const b = await files.add("k2", new Uint8Array([4]), info(Date.now() + 60_000));
    assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a.token, b.token);
    assert.equal((await files.add("k1", new Uint8Array([9]), info(Date.now() + 60_000))).token, a.token);
    assert.equal(files.byToken(a.token)?.size, 3);
    assert.equal(files.usedBytes, 4);
    for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    // The token is not in a file name: a listing of the directory gives no link.
    assert.ok(readdirSync(dir).every((n) => !n.includes(a.token)));
  });

  it("answers unknown, malformed and expired tokens alike, and sweeps expired files off the disk", async () => {
    let now = 1_000_000;
    const dir = fresh();
    const files = await HostedFiles.open(dir, { maxBytes: 1000, log, now: () => now });
    const f = await files.add("k", new Uint8Array(10), info(now + 5000));
    assert.ok(files.byToken(f.token));
    assert.equal(files.byToken("A".repeat(43)), undefined);
    assert.equal(files.byToken("../../etc/passwd"), undefined);
    now += 5000;
    assert.equal(files.byToken(f.token), undefined, "expired at expiresAt");
    assert.equal(files.byKey("k"), undefined);
    assert.equal(await files.sweep(), 1);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(files.usedBytes, 0);
    await assert.rejects(files.add("late", new Uint8Array(1), info(now - 1)), HostingError);
  });

  it("keeps unexpired links across a reopen, drops expired ones and what a crash left half-written", async () => {
    let now = 1_000_000;
    const dir = fresh();
    const first = await HostedFiles.open(dir, { maxBytes: 1000, log, now: () => now });
    const kept = await first.add("kept", new Uint8Array([7, 7]), info(now + 10_000));
    const soon = await first.add("soon", new Uint8Array([8]), info(now + 1000));
    writeFileSync(join(dir, `${"0".repeat(64)}.data`), "orphan");
    writeFileSync(join(dir, `${"1".repeat(64)}.json.tmp`), "{");
    writeFileSync(join(dir, `${"2".repeat(64)}.json`), "not json");
    now += 2000;
    const again = await HostedFiles.open(dir, { maxBytes: 1000, log, now: () => now });
    assert.equal(again.byToken(kept.token)?.size, 2);
    assert.equal(again.byToken(soon.token), undefined);
    assert.equal(again.usedBytes, 2);
    assert.equal(readdirSync(dir).length, 2, readdirSync(dir).join(", "));
  });

  it("refuses a file that does not fit, never dropping older ones for it; a removed key frees its room", async () => {
    const files = await HostedFiles.open(fresh(), { maxBytes: 10, log });
    const a = await files.add("a", new Uint8Array(8), info(Date.now() + 60_000));
    const full = await files.add("b", new Uint8Array(3), info(Date.now() + 60_000)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(full instanceof HostingError && full.code === "full");
    assert.ok(files.byToken(a.token), "the older link still works");
    assert.equal(await files.remove("a"), true);
    assert.equal(files.byToken(a.token), undefined);
    assert.ok(await files.add("b", new Uint8Array(3), info(Date.now() + 60_000)));
  });
});
