import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { type CliRun, inProcessRunner, jsonLines } from "../cli-runner.ts";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";

/** What another person's client may send: a screen clear, a window title, a bidi override, a newline. */
const HOSTILE = "look \x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c\nsecond line";
const GROUP = "\x1b[31mred\x9b1m\u2066group";
const FILE = "\u202etxt.exe\x1b.txt";
/** Anything a terminal acts on or that reorders text (newlines are checked separately). */
// eslint-disable-next-line no-control-regex -- control characters are what must be absent
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const sori = inProcessRunner("escape test password");

describe("sori escapes other people's text in human-readable output, not in --json", () => {
  let t: TestServer;
  let dir: string;
  let mallory: SoriClient;
  let groupId: string;
  const bob = (...argv: string[]): Promise<CliRun> => sori([...argv, "--profile", join(dir, "bob")]);

  before(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "sori-cli-escape-"));
    assert.equal((await sori(["register", "bob", "--server", t.url, "--profile", join(dir, "bob")])).code, 0);
    mallory = await newUser(t.url, "mallory");
    await mallory.sendText("bob", HOSTILE);
    groupId = (await mallory.createGroup(GROUP, ["bob"])).id;
    await mallory.sendText(groupId, HOSTILE);
    const bytes = new TextEncoder().encode("contents");
    await mallory.sendFile("bob", { name: FILE, mime: "text/plain", bytes }, { caption: "cap\x1b[8m" });
  });

  after(async () => {
    await mallory.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("receive, chats and history show escapes and indented continuation lines", async () => {
    const received = await bob("receive", "--wait", "10");
    assert.equal(received.code, 0, received.stderr);
    const chats = await bob("chats");
    const direct = await bob("history", "mallory");
    const group = await bob("history", groupId);
    for (const [what, r] of Object.entries({ received, chats, direct, group })) {
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, RAW, what);
      assert.doesNotMatch(r.stderr, RAW, what);
    }
    const shown = "look \\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil\\u202c\n    second line";
    assert.ok(received.stdout.includes(`mallory: ${shown}\n`), received.stdout);
    assert.ok(
      received.stdout.includes(`[\\x1b[31mred\\x9b1m\\u2066group] mallory: ${shown}\n`),
      received.stdout,
    );
    assert.match(
      received.stdout,
      /\[file \\u202etxt\.exe\\x1b\.txt, 8 bytes → \S*\\u202etxt\.exe_\.txt\] cap\\x1b\[8m/,
    );
    assert.ok(
      chats.stdout.includes("  group  \\x1b[31mred\\x9b1m\\u2066group  members: bob, mallory"),
      chats.stdout,
    );
    assert.ok(direct.stdout.includes(`mallory: ${shown}\n`), direct.stdout);
    assert.ok(group.stdout.includes(`mallory: ${shown}\n`), group.stdout);
    // Every line is a message or one of its continuations: none can pass for a message of its own.
    for (const line of direct.stdout.trimEnd().split("\n"))
      assert.match(line, /^(\d{4}-\d\d-\d\dT\S+ mallory: | {4})/, line);
  });

  it("--json keeps the text exactly as sent", async () => {
    await mallory.sendText(groupId, HOSTILE);
    const received = await bob("receive", "--wait", "10", "--json");
    assert.equal(received.code, 0, received.stderr);
    assert.deepEqual(
      jsonLines(received.stdout).map((m) => m.text),
      [HOSTILE],
    );
    const chats = jsonLines((await bob("chats", "--json")).stdout);
    assert.ok(chats.some((c) => c.name === GROUP));
    const history = jsonLines((await bob("history", groupId, "--json")).stdout);
    assert.deepEqual(
      history.map((m) => m.text),
      [HOSTILE, HOSTILE],
    );
    const direct = jsonLines((await bob("history", "mallory", "--json")).stdout);
    assert.ok(direct.some((m) => (m.file as { name?: string } | undefined)?.name === FILE));
  });
});
