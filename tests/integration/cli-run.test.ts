import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inProcessRunner, jsonLines } from "../cli-runner.ts";
import { startTestServer, type TestServer } from "../helpers.ts";

const sori = inProcessRunner("in-process password");

describe("sori run(argv, io) in-process", () => {
  let t: TestServer;
  let dir: string;
  const profile = (name: string): string[] => ["--profile", join(dir, name)];
  before(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "sori-cli-run-"));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers, sends and receives as JSON lines without spawning", async () => {
    for (const name of ["ina", "ivo"]) {
      const r = await sori(["register", name, "--server", t.url, ...profile(name)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^registered ${name} \\(device \\S+\\)\\n$`));
    }
    const sent = await sori(["send", "ivo", "hello", "in", "process", "--json", ...profile("ina")]);
    assert.equal(sent.code, 0, sent.stderr);
    const got = await sori(["receive", "--json", ...profile("ivo")]);
    assert.equal(got.code, 0, got.stderr);
    const lines = jsonLines(got.stdout);
    assert.equal(lines.length, 1);
    const m = lines[0]!;
    assert.deepEqual(Object.keys(m).sort(), ["chat", "from", "id", "sentAt", "text"]);
    assert.deepEqual([m.from, m.text, m.id], ["ina", "hello in process", jsonLines(sent.stdout)[0]?.id]);
  });

  it("returns 2 for usage errors and 1 with a reason for failures", async () => {
    const usage = await sori(["send", ...profile("ina")]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^sori: missing <username\|chat-id>/);
    const failed = await sori(["send", "nobody-at-all", "hi", ...profile("ina")]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /no such user: nobody-at-all/);
    const noProfile = await sori(["chats", ...profile("nobody")]);
    assert.equal(noProfile.code, 1);
    assert.match(noProfile.stderr, /register or log in first/);
  });
});
