// Calls between the web app (Chromium, fake microphone and camera) and the CLI (werift, a generated
// tone and a VP8 keyframe as camera), both ways: RTP must flow in both directions, as seen in the
// browser's getStats and in the CLI's own packet counters, and both calls land in the chat history.
import assert from "node:assert/strict";
import { type ChildProcess, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoErrors, startWebServer, type TestDevice } from "./harness.ts";
import {
  byTestId,
  callEntry,
  chatItem,
  dismissEnded,
  openCallDevice,
  rtpStats,
  signUp,
  waitCallState,
  type RtpCounters,
} from "./call-helpers.ts";

const SORI = resolve("apps/cli/bin/sori.js");
const CLI_PASSWORD = "cli call password";
const TEST_TIMEOUT_MS = 60_000;

type Run = { code: number; stdout: string; stderr: string };
type CallLine = {
  state: string;
  reason: string;
  durationS: number;
  packetsSent: number;
  packetsReceived: number;
};

/** Runs the CLI to completion (bounded); `started` sees the child process, so a test can stop it. */
function sori(args: string[], started?: (child: ChildProcess) => void): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [SORI, ...args],
      { env: { ...process.env, SORI_PASSWORD: CLI_PASSWORD }, timeout: 45_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
    started?.(child);
  });
}

const lastJson = (r: Run): CallLine => JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as CallLine;

/** Polls the browser's RTP counters (bounded) until `kind` flows both ways. */
async function waitBrowserMedia(device: TestDevice, kind: "audio" | "video"): Promise<RtpCounters> {
  const deadline = Date.now() + 15_000;
  let last: RtpCounters | null = null;
  while (Date.now() < deadline) {
    last = await rtpStats(device.page);
    const s = last?.[kind];
    if (s && s.packetsSent > 0 && s.bytesSent > 0 && s.packetsReceived > 0 && s.bytesReceived > 0)
      return last!;
    await device.page.waitForTimeout(250);
  }
  throw new Error(`${kind} did not flow both ways in the browser: ${JSON.stringify(last)}`);
}

describe("calls between the web app and the CLI", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let dir = "";
  let alice: TestDevice | undefined;
  const children = new Set<ChildProcess>();
  const profile = ["--profile", ""];

  before(async () => {
    ({ url, stop } = await startWebServer());
    dir = mkdtempSync(join(tmpdir(), "sori-web-cli-call-"));
    profile[1] = join(dir, "clibob");
    const registered = await sori(["register", "clibob", "--server", url, ...profile]);
    assert.equal(registered.code, 0, registered.stderr);
    alice = await openCallDevice(url);
    await signUp(alice.page, "alice");
    // Alice starts the chat; the CLI joins it when it receives.
    await byTestId(alice.page, "chat-search").fill("clibob");
    await byTestId(alice.page, "search-person").getByRole("button").click();
    await byTestId(alice.page, "composer").fill("hello from the browser");
    await byTestId(alice.page, "composer").press("Enter");
    const received = await sori(["receive", ...profile]);
    assert.equal(received.code, 0, received.stderr);
    assert.match(received.stdout, /hello from the browser/);
  });

  after(async () => {
    for (const c of children) c.kill("SIGTERM");
    await alice?.close().catch(() => undefined);
    await stop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const track = (c: ChildProcess): void => {
    children.add(c);
    c.once("exit", () => children.delete(c));
  };

  it(
    "the browser calls the CLI, which answers: audio both ways, hang-up from the browser",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      const page = alice!.page;
      // `sori answer` says nothing until a call rings, so the test cannot see when it is listening; a
      // ring sent before it is connected is not stored (rings are transient). If the first ring finds
      // nobody, cancel, restart the CLI and call again (at most 3 times).
      let answer: Promise<Run> | undefined;
      for (let attempt = 1; ; attempt++) {
        const started: ChildProcess[] = [];
        answer = sori(["answer", "--auto", "--wait", "30", "--json", "--loopback", ...profile], (c) => {
          track(c);
          started.push(c);
        });
        await page.waitForTimeout(1500 * attempt);
        await byTestId(page, "call-voice-button").click();
        const connected = await waitCallState(page, "connected", 8000).then(
          () => true,
          () => false,
        );
        if (connected) break;
        const out = await (async () => {
          await byTestId(page, "call-hangup").click();
          for (const c of started) c.kill("SIGTERM");
          return answer;
        })();
        await dismissEnded(page);
        if (attempt === 3) assert.fail(`the CLI never answered: ${out.code} ${out.stdout} ${out.stderr}`);
      }
      const stats = await waitBrowserMedia(alice!, "audio");
      assert.equal(stats.video.packetsSent, 0, "a voice call sends no video");
      await page.waitForTimeout(1000);
      await byTestId(page, "call-hangup").click();
      await waitCallState(page, "ended");
      const answered = await answer!;
      assert.equal(answered.code, 0, answered.stderr);
      const line = lastJson(answered);
      assert.equal(line.reason, "remote-hangup");
      assert.ok(line.packetsSent > 20, `CLI sent ${line.packetsSent}`);
      assert.ok(line.packetsReceived > 20, `CLI received ${line.packetsReceived}`);
      await callEntry(page, { direction: "outgoing", outcome: "answered" }).waitFor();
      assertNoErrors(alice!);
    },
  );

  it(
    "the CLI makes a video call to the browser, which answers with video: audio and video both ways",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      const page = alice!.page;
      await dismissEnded(page);
      const call = sori(
        ["call", "alice", "--video", "--duration", "5", "--json", "--loopback", ...profile],
        track,
      );
      const incoming = byTestId(page, "incoming-call");
      await incoming.waitFor();
      assert.equal(await incoming.getAttribute("data-media"), "video");
      await byTestId(page, "call-answer-video").click();
      await waitCallState(page, "connected");
      await waitBrowserMedia(alice!, "audio");
      await waitBrowserMedia(alice!, "video");
      // The CLI hangs up after its --duration.
      await waitCallState(page, "ended");
      const called = await call;
      assert.equal(called.code, 0, called.stderr);
      const line = lastJson(called);
      assert.equal(line.state, "ended");
      assert.ok(line.packetsReceived > 20, `CLI received ${line.packetsReceived}`);
      await callEntry(page, { direction: "incoming", outcome: "answered", missed: false }).waitFor();
      assert.match(
        await chatItem(page, "clibob").getByTestId("chat-preview").innerText(),
        /^Incoming video call/,
      );
      assertNoErrors(alice!);
    },
  );
});
