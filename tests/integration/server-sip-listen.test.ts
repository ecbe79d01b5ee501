import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { weriftPlatform } from "@sori/werift-calls";
import { newUser } from "../helpers.ts";
import { rawExchange, sipRequest } from "../sip-raw.ts";
import { nextIncoming } from "./call-helpers.ts";

const SORI = join(import.meta.dirname, "..", "..", "apps", "cli", "bin", "sori.js");

/** `sori server --sip-listen …` (what `npm start -- --sip-listen …` runs): its URL and gateway port. */
async function startWithGateway(dataDir: string): Promise<{
  child: ChildProcess;
  url: string;
  sipPort: number;
  stderr: () => string;
  stop(): Promise<number>;
}> {
  const child = spawn(
    process.execPath,
    [
      SORI,
      "server",
      "--port",
      "0",
      "--data",
      dataDir,
      "--sip-listen",
      "udp:127.0.0.1:0",
      "--sip-rtp-ports",
      "52000-52998",
      "--sip-loopback",
      "--sip-account",
      "npm_gw",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += String(c)));
  child.stderr!.on("data", (c: Buffer) => (err += String(c)));
  const exited = new Promise<number>((r) => child.once("exit", (code) => r(code ?? 1)));
  const stop = async (): Promise<number> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    const sip = /SIP gateway for npm_gw listening on udp:[\d.]+:(\d+)/.exec(err)?.[1];
    if (url && sip) return { child, url, sipPort: Number(sip), stderr: () => err, stop };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(
        `server with gateway did not start (exit ${child.exitCode}): ${err.slice(-800)} / ${out.slice(-300)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("sori server --sip-listen (npm start -- --sip-listen): the gateway beside the server, in one process", () => {
  const dir = mkdtempSync(join(tmpdir(), "sori-npm-sip-"));
  let alice: SoriClient | undefined;
  after(async () => {
    await alice?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes the gateway's account at the first start, keeps it after, and phones reach Sori users through it", async () => {
    const first = await startWithGateway(join(dir, "data"));
    try {
      assert.match(first.stderr(), /making the SIP gateway's account npm_gw/);
      alice = await newUser(first.url, "npm_alice");
      alice.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
      const ringing = nextIncoming(alice, 15_000);
      const answer = rawExchange(first.sipPort, [
        sipRequest({
          method: "INVITE",
          uri: `sip:npm_alice@127.0.0.1:${first.sipPort}`,
          from: '"Desk" <sip:desk@127.0.0.1>',
          to: `<sip:npm_alice@127.0.0.1:${first.sipPort}>`,
          callId: `npm-start-${Date.now()}`,
          cseq: 1,
          body: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        }),
      ]);
      const call = await ringing;
      assert.equal(call.peer.username, "npm_gw");
      assert.equal(call.via?.uri, "sip:desk@127.0.0.1");
      call.decline();
      assert.match((await answer)[0] ?? "", /^SIP\/2.0 603/);
      await alice.close();
      alice = undefined;
    } finally {
      assert.equal(await first.stop(), 0, first.stderr().slice(-800));
    }
    const second = await startWithGateway(join(dir, "data"));
    try {
      assert.doesNotMatch(second.stderr(), /making the SIP gateway's account/);
      const [options] = await rawExchange(second.sipPort, [
        sipRequest({
          method: "OPTIONS",
          uri: `sip:127.0.0.1:${second.sipPort}`,
          from: "<sip:probe@127.0.0.1>",
          to: `<sip:127.0.0.1:${second.sipPort}>`,
          callId: "npm-options",
          cseq: 1,
        }),
      ]);
      assert.match(options ?? "", /^SIP\/2.0 200 OK/);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });
});
