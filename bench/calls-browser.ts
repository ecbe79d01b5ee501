// Call setup benchmark, browser↔browser: two headless Chromium devices (fake microphone, the built web
// app served by a Sori server in its own process) call each other through the app's UI. Measured in
// the caller's page: from the click on the call button until the call screen says "connected", and
// until the caller's getStats shows the first audio packet received from the callee. The callee's page
// clicks "Answer" as soon as the prompt appears. Median over N calls after one warm-up call.
//
//   npm run build -w @sori/web && node bench/calls-browser.ts [--calls 20] [--json]
//
// `browserMode` has the shape of bench/calls.ts's CallBenchMode, so it can also be registered there.
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import type { TestDevice } from "../tests/browser/harness.ts";
import { dismissEnded, directChat, openCallDevice, signUp } from "../tests/browser/call-helpers.ts";
import { type CallBenchMode, formatCallReport, runCallBench, summarizeCalls } from "./call-bench-run.ts";

const CALL_TIMEOUT_MS = 15_000;

/** Clicks "Answer" whenever the incoming-call prompt appears (for the rest of the page's life). */
async function autoAnswer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const tryAnswer = (): void =>
      document.querySelector<HTMLButtonElement>('[data-testid="call-answer"]')?.click();
    new MutationObserver(tryAnswer).observe(document.body, { childList: true, subtree: true });
  });
}

/** One call measured inside the caller's page (performance.now(), no round trips to this process). */
function measureInPage(page: Page): Promise<{ connectedMs: number | null; firstAudioMs: number | null }> {
  return page.evaluate(async (timeoutMs: number) => {
    type Hooks = { rtpStats?: () => Promise<{ audio: { packetsReceived: number } } | null> };
    const hooks = (window as { __soriTest?: Hooks }).__soriTest;
    const t0 = performance.now();
    document.querySelector<HTMLButtonElement>('[data-testid="call-voice-button"]')?.click();
    let connectedMs: number | null = null;
    let firstAudioMs: number | null = null;
    let statsBusy = false;
    while ((connectedMs === null || firstAudioMs === null) && performance.now() - t0 < timeoutMs) {
      const screen = document.querySelector<HTMLElement>('[data-testid="call-screen"]');
      if (connectedMs === null && screen?.dataset.state === "connected") connectedMs = performance.now() - t0;
      if (screen?.dataset.state === "ended") break;
      if (firstAudioMs === null && !statsBusy) {
        statsBusy = true;
        void hooks?.rtpStats?.().then((s) => {
          statsBusy = false;
          if (s && s.audio.packetsReceived > 0 && firstAudioMs === null)
            firstAudioMs = performance.now() - t0;
        });
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return { connectedMs, firstAudioMs };
  }, CALL_TIMEOUT_MS);
}

/** Two Chromium devices running the web app, the callee answering at once. */
export const browserMode: CallBenchMode = {
  name: "browser",
  async setup(serverUrl) {
    const suffix = Math.random().toString(36).slice(2, 8);
    const devices: TestDevice[] = [];
    const close = async (): Promise<void> => {
      for (const d of devices) await d.close().catch(() => undefined);
    };
    try {
      devices.push(await openCallDevice(serverUrl), await openCallDevice(serverUrl));
      const [caller, callee] = devices as [TestDevice, TestDevice];
      const callerName = `caller_${suffix}`;
      const calleeName = `callee_${suffix}`;
      await Promise.all([signUp(caller.page, callerName), signUp(callee.page, calleeName)]);
      await directChat(caller.page, calleeName, callerName, [callee.page]);
      await autoAnswer(callee.page);
      return {
        async call() {
          const r = await measureInPage(caller.page);
          await caller.page.getByTestId("call-hangup").click();
          await callee.page.locator('[data-testid="call-screen"][data-state="ended"]').waitFor();
          await Promise.all([dismissEnded(caller.page), dismissEnded(callee.page)]);
          if (r.connectedMs === null || r.firstAudioMs === null)
            throw new Error(`call did not connect: ${JSON.stringify(r)}`);
          return { connectedMs: Math.round(r.connectedMs), firstAudioMs: Math.round(r.firstAudioMs) };
        },
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  },
};

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--calls");
  const calls = Number(i >= 0 ? argv[i + 1] : "20");
  if (!Number.isInteger(calls) || calls < 1 || calls > 200) {
    process.stderr.write("usage: node bench/calls-browser.ts [--calls 1..200] [--json]\n");
    process.exit(2);
  }
  const report = summarizeCalls(
    browserMode.name,
    calls,
    await runCallBench(browserMode, calls, "sori-bench-calls-browser-"),
  );
  if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(report)}\n`);
  else
    process.stdout.write(
      `calls: ${calls} × Chromium↔Chromium (web app, fake microphone) on 127.0.0.1, after one warm-up call\n` +
        formatCallReport(report),
    );
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
