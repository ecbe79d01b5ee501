// The gateway under Debian's sipp (sip-tester): 20 phone calls at once to 20 Sori users, then a
// bounded flood of malformed, unauthenticated and scanning requests; afterwards it still answers
// and bridges calls.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { waitFor } from "./call-helpers.ts";
import { portBase } from "../port-base.ts";

const SIPP = process.env.SORI_SIPP ?? "/usr/bin/sipp";
const CALLS = 20;
const SCENARIO = resolve("tests/fixtures/sipp-uac.xml");
const BASE = portBase("sip-gateway-load");

/** Runs sipp to completion (bounded): exit 0 means every call went through the whole scenario. */
function sipp(args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn(SIPP, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output = (output + String(d)).slice(-4000)));
    child.stderr.on("data", (d: Buffer) => (output = (output + String(d)).slice(-4000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, output });
    });
  });
}

/** sipp playing `calls` phones (at once) against the gateway, from local port `port`. */
function sippCalls(
  gatewayPort: number,
  users: string,
  calls: number,
  port: number,
  timeoutS: number,
): Promise<{ code: number; output: string }> {
  const n = String(calls);
  return sipp(
    [
      `127.0.0.1:${gatewayPort}`,
      "-sf",
      SCENARIO,
      "-inf",
      users,
      "-m",
      n,
      "-l",
      n,
      "-r",
      n,
      "-i",
      "127.0.0.1",
    ].concat([
      "-p",
      String(port),
      "-mp",
      String(port + 2),
      "-nostdin",
      "-timeout",
      String(timeoutS),
      "-timeout_error",
    ]),
    (timeoutS + 15) * 1000,
  );
}

/** Sends datagrams from one socket and collects what comes back within `waitMs` after the last. */
async function blast(port: number, messages: string[], waitMs: number): Promise<string[]> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const answers: string[] = [];
  socket.on("message", (d) => answers.push(d.toString()));
  // Paced, so the loopback socket's buffer does not drop what the test then counts.
  for (let i = 0; i < messages.length; i++) {
    socket.send(messages[i]!, port, "127.0.0.1");
    if (i % 25 === 24) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, waitMs));
  socket.close();
  return answers;
}

function request(method: string, user: string, i: number, extra = ""): string {
  return (
    `${method} sip:${user}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKflood${method}${i}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:scan@127.0.0.1>;tag=f${i}\r\nTo: <sip:${user}@127.0.0.1>\r\n` +
    `Call-ID: flood-${method}-${i}\r\nCSeq: 1 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`
  );
}

describe("SIP gateway under sipp: 20 calls at once, then a flood", () => {
  let t: TestServer;
  let gw: SoriClient;
  let gateway: SipGateway;
  let dir: string;
  const users: SoriClient[] = [];
  let answered = 0;

  before(async () => {
    // 21 accounts from one address: more than the default sign-up limit allows.
    t = await startTestServer(["--registrations-per-minute", "100", "--gateways", "load_gw"]);
    dir = mkdtempSync(join(tmpdir(), "sori-sipp-"));
    gw = await newUser(t.url, "load_gw");
    for (let i = 0; i < CALLS; i++) {
      const u = await newUser(t.url, `load_user${i}`);
      u.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
      u.calls.on("incoming", (call) => {
        answered++;
        void call.accept();
      });
      users.push(u);
    }
    writeFileSync(join(dir, "users.csv"), `SEQUENTIAL\n${users.map((u) => `${u.username};`).join("\n")}\n`);
    gateway = await startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 46_000, max: 46_998 },
      // A trunk sends every call from one address: its burst must fit.
      inviteBurst: CALLS + 5,
      loopback: true,
      log: createLogger("error"),
    });
  });
  after(async () => {
    await gateway?.stop();
    for (const u of users) await u.close();
    await gw?.close();
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("bridges 20 concurrent calls, each answered and hung up by the phone", { timeout: 90_000 }, async () => {
    const run = await sippCalls(gateway.port, join(dir, "users.csv"), CALLS, BASE, 60);
    assert.equal(run.code, 0, `sipp: every call completes (exit ${run.code})\n${run.output.slice(-1500)}`);
    assert.equal(answered, CALLS);
    await waitFor("the gateway forgets the calls", () => gateway.stats().callsActive === 0, 15_000);
    assert.equal(gateway.stats().callsTotal, CALLS);
  });

  it(
    "survives a bounded flood, answers scanners alike for known and unknown users, and still bridges a call",
    { timeout: 90_000 },
    async () => {
      const garbage = Array.from({ length: 500 }, (_, i) =>
        i % 3 === 0
          ? `\u0000\u0001garbage ${i}`
          : i % 3 === 1
            ? "INVITE sip:x SIP/2.0\r\n\r\n"
            : request("INVITE", "x", i).replace("CSeq: 1", "CSeq: x"),
      );
      const registers = Array.from({ length: 100 }, (_, i) =>
        request("REGISTER", i % 2 ? "load_user0" : "nobody_at_all", i),
      );
      const invites = Array.from({ length: 100 }, (_, i) => request("INVITE", "load_user1", i + 1000));
      const answers = await blast(gateway.port, [...garbage, ...registers, ...invites], 1500);
      assert.ok(
        gateway.stats().parseErrors >= 300,
        `malformed requests counted (${gateway.stats().parseErrors})`,
      );
      assert.ok(gateway.stats().rateLimited > 0, "the INVITE flood is rate-limited");
      // REGISTERs are limited per source like INVITEs: a burst is answered, the rest dropped unanswered.
      const registerAnswers = answers.filter((a) => /CSeq: 1 REGISTER/.test(a));
      assert.ok(
        registerAnswers.length >= 10 && registerAnswers.length < 100,
        `a burst of REGISTERs answered, the flood dropped (${registerAnswers.length} of 100)`,
      );
      assert.ok(registerAnswers.every((a) => a.startsWith("SIP/2.0 401 ")));
      const shape = (a: string): string =>
        a
          .split("\r\n")
          .filter((l) => !/^(Via|From|To|Call-ID|CSeq):/.test(l))
          .map((l) => l.replace(/nonce="[^"]*"/, 'nonce=""'))
          .join("\n");
      assert.equal(
        new Set(registerAnswers.map(shape)).size,
        1,
        "known and unknown users get the same challenge (only the nonce differs)",
      );
      // Once the source's budget refills, calls go through again.
      await new Promise((r) => setTimeout(r, 1500));
      const options = await blast(gateway.port, [request("OPTIONS", "load_user0", 1)], 500);
      assert.match(options[0] ?? "", /^SIP\/2.0 200 OK/);
      const before = answered;
      const run = await sippCalls(gateway.port, join(dir, "users.csv"), 1, BASE + 4, 30);
      assert.equal(run.code, 0, `a call after the flood completes\n${run.output.slice(-1500)}`);
      assert.equal(answered, before + 1);
    },
  );
});
