import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { soriRunner, soriStreaming } from "../cli-runner.ts";
import { PASSWORD, startTestServer, type TestServer } from "../helpers.ts";

const sori = soriRunner("cli test password", 30_000);

const lines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("sori CLI: files, timers, history, safety numbers", () => {
  let t: TestServer;
  let dir: string;
  const profile = (name: string): string[] => ["--profile", join(dir, name)];
  before(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "sori-cli-files-"));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends a file that arrives byte-identical, sets a timer, prints history and safety numbers", async () => {
    for (const name of ["erin", "fred"]) {
      const r = await sori(["register", name, "--server", t.url, ...profile(name)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const data = Buffer.alloc(1_300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    const src = join(dir, "photo.jpg");
    writeFileSync(src, data);
    const sent = await sori(["send", "fred", "--file", src, "holiday", "--json", ...profile("erin")]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stderr, "", "no progress bar when stderr is not a terminal");
    const chat = String(lines(sent.stdout)[0]?.chat);

    const downloads = join(dir, "dl");
    const got = await sori(["receive", "--json", "--download-dir", downloads, ...profile("fred")]);
    assert.equal(got.code, 0, got.stderr);
    const [msg] = lines(got.stdout);
    assert.deepEqual(Object.keys(msg!).sort(), ["chat", "file", "from", "id", "sentAt", "text"]);
    assert.equal(msg?.text, "holiday");
    const file = msg?.file as { name: string; size: number; path: string };
    assert.deepEqual(
      [file.name, file.size, file.path],
      ["photo.jpg", data.length, join(downloads, "photo.jpg")],
    );
    assert.ok(readFileSync(file.path).equals(data), "byte-identical");

    assert.equal((await sori(["timer", chat, "soon", ...profile("fred")])).code, 2);
    const timer = await sori(["timer", chat, "3600", ...profile("fred")]);
    assert.equal(timer.code, 0, timer.stderr);
    assert.equal((await sori(["send", chat, "after the timer", ...profile("fred")])).code, 0);
    const hist = await sori(["history", chat, "--json", ...profile("fred")]);
    const texts = lines(hist.stdout).map((m) => m.text);
    assert.ok(texts.includes("after the timer"), JSON.stringify(texts));
    const plain = await sori(["history", chat, ...profile("erin")]);
    assert.match(plain.stdout, /\[file photo\.jpg, 1300000 bytes\] holiday/);

    const a = await sori(["safety-number", "fred", "--json", ...profile("erin")]);
    const b = await sori(["safety-number", "erin", "--json", ...profile("fred")]);
    assert.equal(a.code, 0, a.stderr);
    const [na, nb] = [lines(a.stdout)[0], lines(b.stdout)[0]];
    assert.match(String(na?.digits), /^\d{60}$/);
    assert.equal(na?.digits, nb?.digits);
    const verify = await sori(["safety-number", "fred", "--verify", "--qr", ...profile("erin")]);
    assert.match(verify.stdout, /^(\d{5} ){3}\d{5}\n/);
    assert.match(verify.stdout, /verified: yes/);
    assert.equal((await sori(["safety-number", "nobody-here", ...profile("erin")])).code, 1);
    assert.equal((await sori(["send", "fred", "--file", join(dir, "missing"), ...profile("erin")])).code, 2);
  });

  it("encrypts a profile under SORI_PASSPHRASE; without it or with a wrong one the profile stays closed", async () => {
    const secret = { SORI_PASSPHRASE: "a long profile passphrase" };
    assert.equal((await sori(["register", "gus", "--server", t.url, ...profile("gus")], secret)).code, 0);
    assert.equal(
      (await sori(["register", "hal", "--server", t.url, "--no-passphrase", ...profile("hal")], secret)).code,
      0,
    );
    assert.equal((await sori(["send", "gus", "top secret words", ...profile("hal")])).code, 0);
    const got = await sori(["receive", "--json", ...profile("gus")], secret);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(lines(got.stdout)[0]?.text, "top secret words");
    // Nothing readable at rest: not the message, not the username, not the keys' JSON.
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    for (const f of walk(join(dir, "gus"))) {
      const raw = readFileSync(f).toString("latin1");
      assert.ok(!raw.includes("top secret") && !raw.includes("signaturePrivateKey"), `${f} is encrypted`);
    }
    // The bot profile is plain, as asked.
    assert.ok(walk(join(dir, "hal")).some((f) => readFileSync(f).toString().includes("signaturePrivateKey")));
    const locked = await sori(["receive", ...profile("gus")]);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /encrypted: set SORI_PASSPHRASE/);
    const wrong = await sori(["receive", ...profile("gus")], { SORI_PASSPHRASE: "not it" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong passphrase/);
    assert.equal((await sori(["history", "hal", "--json", ...profile("gus")], secret)).code, 0);

    // Linking: the encrypted profile shows a code and stays online to approve the device that uses it;
    // a new profile uses the code instead of the password.
    const link = soriStreaming(
      PASSWORD,
      ["devices", "link", "--json", "--wait", "30", ...profile("gus")],
      secret,
      60_000,
    );
    const { code } = JSON.parse(await link.firstLine) as { code: string };
    assert.match(code, /^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/, "the server's half, then the secret half");
    const linked = await sori(
      ["link", code, "--server", t.url, "--no-passphrase", "--wait", "30", ...profile("gus-tablet")],
      {
        SORI_PASSWORD: "",
      },
    );
    assert.equal(linked.code, 0, linked.stderr);
    // Approved by gus's device as soon as it signed in (it may be so before `link` even looks).
    assert.match(linked.stdout, /^linked to gus \(device /);
    const shown = await link.done;
    assert.equal(shown.code, 0, shown.stderr);
    const devices = await sori(["devices", "--json", ...profile("gus-tablet")]);
    assert.equal(lines(devices.stdout).length, 2);
  });
});
