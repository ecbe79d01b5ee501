import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliRun, type CliServer, soriBackground, soriRunner, startCliServer } from "../cli-runner.ts";

const PASSWORD = "cli call password";

const sori = soriRunner(PASSWORD, 60_000);

/** `sori answer …` in the background; `ready` once it listens for calls (it says so on stderr). */
function answering(args: string[]): { ready: Promise<string>; done: Promise<CliRun> } {
  return soriBackground(PASSWORD, ["answer", ...args], /waiting up to/, 60_000);
}

type CallLine = {
  state: string;
  reason: string;
  durationS: number;
  packetsSent: number;
  packetsReceived: number;
};
const lastJson = (r: CliRun): CallLine => JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as CallLine;

describe("sori call / sori answer (werift, loopback)", () => {
  let dir: string;
  let server: CliServer;
  let url: string;
  const profile = (name: string): string[] => ["--profile", join(dir, name)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sori-cli-call-"));
    server = await startCliServer(join(dir, "data"));
    url = server.url;
    for (const name of ["clialice", "clibob"]) {
      const r = await sori(["register", name, "--server", url, ...profile(name)]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await sori(["send", "clibob", "hello", ...profile("clialice")])).code, 0);
    assert.equal((await sori(["receive", ...profile("clibob")])).code, 0);
  });

  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("calls, packets flow both ways, each side prints one JSON line, history shows the call", async () => {
    const answer = answering(["--auto", "--wait", "30", "--json", "--loopback", ...profile("clibob")]);
    await answer.ready;
    const call = await sori([
      "call",
      "clibob",
      "--duration",
      "2",
      "--json",
      "--loopback",
      ...profile("clialice"),
    ]);
    const answered = await answer.done;
    assert.equal(call.code, 0, call.stderr);
    assert.equal(answered.code, 0, answered.stderr);
    const c = lastJson(call);
    const a = lastJson(answered);
    assert.equal(c.state, "ended");
    assert.equal(a.state, "ended");
    assert.equal(a.reason, "remote-hangup");
    assert.ok(c.durationS >= 1 && c.durationS <= 4, `duration ${c.durationS}`);
    // 2 s of 20 ms packets is ~100; a loaded machine runs the tone's timer late, so ask for less.
    for (const [side, line] of [
      ["caller", c],
      ["callee", a],
    ] as const) {
      assert.ok(line.packetsSent > 20, `${side} sent ${line.packetsSent}`);
      assert.ok(line.packetsReceived > 20, `${side} received ${line.packetsReceived}`);
    }
    const history = await sori(["history", "clialice", "--json", ...profile("clibob")]);
    const entries = history.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { call?: { direction: string; outcome: string; missed: boolean } });
    const entry = entries.find((e) => e.call);
    assert.deepEqual(
      { direction: entry?.call?.direction, outcome: entry?.call?.outcome, missed: entry?.call?.missed },
      { direction: "incoming", outcome: "answered", missed: false },
    );
  });

  it("reports declined and no-answer (with a shortened ring timeout), and a missed call in receive", async () => {
    const decliner = answering(["--decline", "--wait", "30", "--json", "--loopback", ...profile("clibob")]);
    await decliner.ready;
    const declined = await sori(["call", "clibob", "--json", "--loopback", ...profile("clialice")]);
    assert.equal(lastJson(declined).state, "declined");
    assert.equal(declined.code, 1);
    assert.equal(lastJson(await decliner.done).state, "declined");

    const unanswered = await sori([
      "call",
      "clibob",
      "--json",
      "--loopback",
      "--ring-timeout",
      "1",
      ...profile("clialice"),
    ]);
    assert.equal(lastJson(unanswered).state, "no-answer");
    const received = await sori(["receive", ...profile("clibob")]);
    assert.match(received.stdout, /clialice: \[missed voice call\]/);
  });
});
