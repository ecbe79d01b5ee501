import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { newUser, receive, startTestServer, type TestServer } from "../helpers.ts";
import { enableCalls, nextIncoming, waitFor, waitState } from "./call-helpers.ts";

const TURNSERVER = process.env.SORI_TURNSERVER ?? "/usr/bin/turnserver";
const SECRET = "sori-test-turn-secret-0123456789";

/** A free TCP port on 127.0.0.1 (coturn listens on the same number for UDP and TCP). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("a relay-only call through coturn, with credentials the server issued", () => {
  let t: TestServer;
  let turn: ChildProcess;
  let dir: string;
  const clients: SoriClient[] = [];

  before(async () => {
    assert.ok(
      existsSync(TURNSERVER),
      `coturn is missing: run "npm test" (pretest installs it) or apt-get install coturn`,
    );
    dir = mkdtempSync(join(tmpdir(), "sori-turn-"));
    const port = await freePort();
    // A random relay range, so tests running side by side rarely meet.
    const minPort = 50_000 + Math.floor(Math.random() * 1500) * 10;
    turn = spawn(
      TURNSERVER,
      [
        "-n",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        `--listening-port=${port}`,
        `--min-port=${minPort}`,
        `--max-port=${minPort + 9}`,
        "--use-auth-secret",
        `--static-auth-secret=${SECRET}`,
        "--realm=sori.test",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--allow-loopback-peers",
        "--log-file=stdout",
        `--pidfile=${join(dir, "turn.pid")}`,
        `--userdb=${join(dir, "turndb")}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("coturn did not start")), 15_000);
      let out = "";
      turn.stdout?.on("data", (chunk: Buffer) => {
        out += String(chunk);
        if (out.includes("Total General servers")) {
          clearTimeout(timer);
          resolve();
        }
      });
      turn.once("exit", (code) => reject(new Error(`coturn exited (${code})`)));
    });
    t = await startTestServer(["--turn-secret", SECRET, "--turn-url", `turn:127.0.0.1:${port}`]);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await t?.stop();
    if (turn && turn.exitCode === null) {
      const exited = new Promise((r) => turn.once("exit", r));
      turn.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("connects with relay candidates only and media flows both ways", async () => {
    const alice = await newUser(t.url, "turn_alice");
    const bob = await newUser(t.url, "turn_bob");
    clients.push(alice, bob);
    await alice.sendText("turn_bob", "hi");
    await receive(bob, 1);
    const a = enableCalls(alice, { iceTransportPolicy: "relay" });
    const b = enableCalls(bob, { iceTransportPolicy: "relay" });
    const call = await alice.calls.start("turn_bob");
    const incoming = await nextIncoming(bob);
    await incoming.accept();
    await waitState(call, "connected", 15_000);
    await waitState(incoming, "connected", 15_000);
    await waitFor(
      "packets both ways through the relay",
      () => a.counters.received > 25 && b.counters.received > 25,
    );
    const candidates = (sdp: string | undefined): string[] =>
      (sdp ?? "").split("\r\n").filter((l) => l.startsWith("a=candidate:"));
    const offered = candidates(call.peerConnection?.localDescription?.sdp);
    const answered = candidates(incoming.peerConnection?.localDescription?.sdp);
    assert.ok(offered.length > 0 && answered.length > 0, "both sides gathered candidates");
    assert.ok(
      [...offered, ...answered].every((c) => c.includes(" typ relay")),
      `only relay candidates: ${[...offered, ...answered].join(" | ")}`,
    );
    call.hangup();
    await waitState(incoming, "ended");
    assert.deepEqual([...a.warnings, ...b.warnings], []);
  });
});
