import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliServer, soriRunner, startCliServer } from "../cli-runner.ts";

const PASSWORD = "cli test password";

const sori = soriRunner(PASSWORD, 30_000);

describe("sori CLI (the scripting contract)", () => {
  let dir: string;
  let server: CliServer;
  let url: string;
  const profile = (name: string): string[] => ["--profile", join(dir, name)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sori-cli-"));
    server = await startCliServer(join(dir, "data"));
    url = server.url;
  });

  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers, sends, receives as JSON lines, and manages a group", async () => {
    for (const name of ["alice", "bob", "carol"]) {
      const r = await sori(["register", name, "--server", url, ...profile(name)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`registered ${name} \\(device `));
    }
    assert.equal(statSync(join(dir, "alice", "profile")).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "alice")).mode & 0o777, 0o700);

    assert.equal((await sori(["send", "bob", "hello", "bob", ...profile("alice")])).code, 0);
    const got = await sori(["receive", "--json", ...profile("bob")]);
    assert.equal(got.code, 0, got.stderr);
    const lines = got.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(lines.length, 1);
    assert.deepEqual(Object.keys(lines[0]!).sort(), ["chat", "from", "id", "sentAt", "text"]);
    assert.equal(lines[0]?.text, "hello bob");
    assert.equal(lines[0]?.from, "alice");
    assert.ok(!Number.isNaN(Date.parse(lines[0]!.sentAt!)));
    // What was received is not received again.
    assert.equal((await sori(["receive", "--json", ...profile("bob")])).stdout, "");

    const created = await sori(["group", "create", "trip", "--members", "bob", ...profile("alice")]);
    assert.equal(created.code, 0, created.stderr);
    const groupId = created.stdout.trim();
    assert.match(groupId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal((await sori(["group", "add", groupId, "carol", ...profile("alice")])).code, 0);
    assert.equal((await sori(["send", groupId, "to the group", ...profile("bob")])).code, 0);
    const carol = await sori(["receive", "--json", ...profile("carol")]);
    assert.deepEqual(
      carol.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { text: string; chat: string }).text),
      ["to the group"],
    );
    const chats = await sori(["chats", "--json", ...profile("carol")]);
    const chat = JSON.parse(chats.stdout.trim()) as { id: string; name: string; members: string[] };
    assert.deepEqual([chat.id, chat.name, chat.members], [groupId, "trip", ["alice", "bob", "carol"]]);

    assert.equal((await sori(["group", "remove", groupId, "carol", ...profile("bob")])).code, 0);
    assert.equal((await sori(["send", groupId, "carol is gone", ...profile("alice")])).code, 0);
    assert.equal((await sori(["receive", "--json", ...profile("carol")])).stdout, "");
    const history = await sori(["history", groupId, "--json", ...profile("alice")]);
    assert.deepEqual(
      history.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { text: string }).text),
      ["to the group", "carol is gone"],
    );
  });

  it("receive --wait returns as soon as a message arrives", async () => {
    await sori(["receive", ...profile("alice")]);
    const waiting = sori(["receive", "--wait", "20", "--json", ...profile("alice")]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await sori(["send", "alice", "are you there", ...profile("bob")])).code, 0);
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout.trim()) as { text: string }).text, "are you there");
  });

  it("fails clearly: usage errors exit 2, runtime errors exit 1 with a reason", async () => {
    const usage = await sori(["send", ...profile("alice")]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing <username\|chat-id>/);
    const unknownOption = await sori(["chats", "--bogus", "1", ...profile("alice")]);
    assert.equal(unknownOption.code, 2);
    assert.match(unknownOption.stderr, /unknown option --bogus/);
    const noProfile = await sori(["receive", ...profile("nobody")]);
    assert.equal(noProfile.code, 1);
    assert.match(noProfile.stderr, /register or log in first/);
    const unknownUser = await sori(["send", "no-such-user", "hi", ...profile("alice")]);
    assert.equal(unknownUser.code, 1);
    assert.match(unknownUser.stderr, /no such user: no-such-user/);
    const wrongPassword = await sori(["login", "alice", "--server", url, ...profile("alice2")], {
      SORI_PASSWORD: "wrong password",
    });
    assert.equal(wrongPassword.code, 1);
    assert.match(wrongPassword.stderr, /wrong username or password/);
    const offline = await sori(["register", "dave", "--server", "http://127.0.0.1:9", ...profile("dave")]);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /cannot reach the server at http:\/\/127\.0\.0\.1:9/);
  });

  it("a second device logged in with `sori login` waits for approval, then receives new messages", async () => {
    await sori(["receive", ...profile("bob")]);
    const login = await sori([
      "login",
      "bob",
      "--server",
      url,
      "--wait",
      "0",
      "--json",
      ...profile("bob-laptop"),
    ]);
    assert.equal(login.code, 0, login.stderr);
    const [enrolled, waiting] = login.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(enrolled?.approval, "pending", "a password alone does not make it part of the account");
    assert.match(waiting?.code ?? "", /^\d{4} \d{4} \d{4}$/);
    assert.match(login.stderr, /waits for approval/);
    // Not part of the account yet: nothing can be sent from it.
    const early = await sori(["send", "alice", "too early", ...profile("bob-laptop")]);
    assert.equal(early.code, 1);
    // Bob's first device sees the sign-in with the same code, and approves it.
    const pending = await sori(["devices", "pending", "--json", ...profile("bob")]);
    const listed = JSON.parse(pending.stdout.trim()) as { deviceId: string; code: string };
    assert.equal(listed.deviceId, enrolled?.deviceId);
    assert.equal(listed.code, waiting?.code, "both devices show the same code");
    assert.equal((await sori(["devices", "approve", listed.deviceId, ...profile("bob")])).code, 0);
    // Running the same login again goes on waiting, and finds it approved.
    const resumed = await sori(["login", "bob", "--server", url, ...profile("bob-laptop")]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /approved/);
    assert.equal((await sori(["send", "bob", "to both of bob's devices", ...profile("alice")])).code, 0);
    for (const p of ["bob-laptop", "bob"]) {
      const r = await sori(["receive", "--json", ...profile(p)]);
      assert.deepEqual(
        r.stdout
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { text: string }).text),
        ["to both of bob's devices"],
        p,
      );
    }
  });
});
