// Calls between the web app (Chromium, fake microphone and camera) and the CLI (werift, a generated
// tone and a VP8 keyframe as camera), both ways: RTP must flow in both directions, as seen in the
// browser's getStats and in the CLI's own packet counters, and both calls land in the chat history.
import assert from "node:assert/strict";
import { type ChildProcess, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoErrors, screenshot, startWebServer, type TestDevice } from "./harness.ts";
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

  /**
   * Alice calls the CLI (`sori answer --auto`) from the browser once it is listening: a ring sent
   * before the CLI is connected is not stored (rings are transient), and `sori answer` says on stderr
   * when a call can ring it.
   */
  const browserCallsCli = async (): Promise<{ answer: Promise<Run>; process: ChildProcess }> => {
    const page = alice!.page;
    let child: ChildProcess | undefined;
    let listening: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const answer = sori(["answer", "--auto", "--wait", "30", "--json", "--loopback", ...profile], (c) => {
      track(c);
      child = c;
      let err = "";
      c.stderr?.on("data", (chunk: Buffer) => {
        err += String(chunk);
        if (err.includes("waiting up to")) listening();
      });
    });
    const early = await Promise.race([
      ready.then(() => undefined),
      answer,
      page.waitForTimeout(20_000).then(() => ({ code: -1, stdout: "", stderr: "no ready line in 20 s" })),
    ]);
    if (early) assert.fail(`sori answer did not start listening: ${early.code} ${early.stderr}`);
    await byTestId(page, "call-voice-button").click();
    await waitCallState(page, "connected");
    return { answer, process: child! };
  };

  it(
    "the browser calls the CLI, which answers: audio both ways, hang-up from the browser",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      const page = alice!.page;
      const { answer } = await browserCallsCli();
      const stats = await waitBrowserMedia(alice!, "audio");
      assert.equal(stats.video.packetsSent, 0, "a voice call sends no video");
      await page.waitForTimeout(1000);
      await byTestId(page, "call-hangup").click();
      await waitCallState(page, "ended");
      const answered = await answer;
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

  it(
    "when the CLI vanishes mid-call, the browser shows “Reconnecting…”, and hanging up ends the call",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const page = alice!.page;
      await dismissEnded(page);
      const { answer, process: cli } = await browserCallsCli();
      await waitBrowserMedia(alice!, "audio");
      // SIGKILL: no hangup goes out; the browser only notices that media and ICE checks stop.
      cli.kill("SIGKILL");
      await answer;
      await waitCallState(page, "reconnecting", 20_000);
      assert.equal(await byTestId(page, "call-status").innerText(), "Reconnecting…");
      await byTestId(page, "call-hangup").click();
      await waitCallState(page, "ended");
      assert.equal(await byTestId(page, "call-screen").getAttribute("data-end-reason"), "hangup");
      assertNoErrors(alice!);
    },
  );

  it(
    "without a microphone the call still connects: the browser hears the CLI and says it cannot be heard",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const page = alice!.page;
      await dismissEnded(page);
      // As if the person refused the microphone.
      await page.evaluate(() => {
        navigator.mediaDevices.getUserMedia = () =>
          Promise.reject(new DOMException("refused", "NotAllowedError"));
      });
      const call = sori(["call", "alice", "--duration", "3", "--json", "--loopback", ...profile], track);
      await byTestId(page, "incoming-call").waitFor();
      await byTestId(page, "call-answer").click();
      await waitCallState(page, "connected");
      await byTestId(page, "call-no-mic").waitFor();
      assert.match(await byTestId(page, "call-no-mic").innerText(), /microphone isn't available/);
      await screenshot(page, "desktop-en-call-no-microphone");
      const deadline = Date.now() + 10_000;
      let stats = await rtpStats(page);
      while ((stats?.audio.packetsReceived ?? 0) === 0 && Date.now() < deadline) {
        await page.waitForTimeout(200);
        stats = await rtpStats(page);
      }
      assert.ok((stats?.audio.packetsReceived ?? 0) > 0, "the CLI's tone arrives");
      assert.equal(stats?.audio.packetsSent, 0, "nothing to send without a microphone");
      await waitCallState(page, "ended");
      assert.equal((await call).code, 0);
      assertNoErrors(alice!);
    },
  );
});
