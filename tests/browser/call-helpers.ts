// Shared steps of the browser call tests: devices with the app's test hooks, sign-up, a direct chat
// both sides know, and the RTP counters of the active call read from the page.
import type { Locator, Page } from "playwright-core";
import { openDevice, type TestDevice } from "./harness.ts";

export const PASSWORD = "correct horse battery";

type RtpDirection = {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
};
export type RtpCounters = { audio: RtpDirection; video: RtpDirection };

export const byTestId = (page: Page, id: string): Locator => page.getByTestId(id);
export const chatItem = (page: Page, name: string): Locator =>
  page.locator(`[data-testid="chat-item"][data-chat-name="${name}"]`);

/**
 * A device whose app exposes the test hooks (apps/web/src/calls/test-hooks.ts): the active call's RTP
 * counters, and a short ring timeout when given.
 */
export async function openCallDevice(
  url: string,
  options: {
    ringTimeoutMs?: number;
    locale?: string;
    width?: number;
    height?: number;
    dark?: boolean;
    /** A WAV file as the microphone (Chromium's fake capture plays it in a loop). */
    microphoneWav?: string;
  } = {},
): Promise<TestDevice> {
  const device = await openDevice(url, {
    locale: options.locale ?? "en-US",
    width: options.width ?? 1280,
    height: options.height ?? 800,
    ...(options.microphoneWav
      ? { extraArgs: [`--use-file-for-fake-audio-capture=${options.microphoneWav}`] }
      : {}),
  });
  // An ended call stays on screen until the test closes it (dismissEnded), however slow the machine.
  await device.page.context().addInitScript((ringTimeoutMs: number | null) => {
    (window as { __soriTest?: unknown }).__soriTest = {
      endedNoticeMs: 600_000,
      ...(ringTimeoutMs ? { ringTimeoutMs } : {}),
    };
  }, options.ringTimeoutMs ?? null);
  // The app follows the system's colour scheme unless the person picked a theme.
  if (options.dark) await device.page.emulateMedia({ colorScheme: "dark" });
  await device.page.reload();
  return device;
}

export async function signUp(page: Page, username: string): Promise<void> {
  await byTestId(page, "auth-mode-register").click();
  await byTestId(page, "auth-username").fill(username);
  await byTestId(page, "auth-password").fill(PASSWORD);
  await byTestId(page, "auth-password-confirm").fill(PASSWORD);
  await byTestId(page, "auth-submit").click();
  await byTestId(page, "new-chat-button").waitFor();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}

/** `from` starts a direct chat with `to` and says hello; every `toPages` device opens it. */
export async function directChat(from: Page, to: string, fromName: string, toPages: Page[]): Promise<void> {
  await byTestId(from, "chat-search").fill(to);
  await byTestId(from, "search-person").getByRole("button").click();
  const composer = byTestId(from, "composer");
  await composer.fill(`hello ${to}`);
  await composer.press("Enter");
  for (const p of toPages) {
    await chatItem(p, fromName).click();
    await byTestId(p, "composer").waitFor();
  }
  await from.locator('[data-testid="message"][data-status="delivered"]').first().waitFor();
}

export async function rtpStats(page: Page): Promise<RtpCounters | null> {
  return page.evaluate(async () => {
    const hooks = (window as { __soriTest?: { rtpStats?: () => Promise<unknown> } }).__soriTest;
    return ((await hooks?.rtpStats?.()) ?? null) as RtpCounters | null;
  });
}

export async function iceRestarts(page: Page): Promise<number> {
  return page.evaluate(() => {
    const hooks = (window as { __soriTest?: { iceRestarts?: () => number } }).__soriTest;
    return hooks?.iceRestarts?.() ?? 0;
  });
}

/** Waits (bounded) until media of `kind` flows both ways between two pages: packets and bytes, sent and received. */
export async function waitMediaBothWays(
  a: Page,
  b: Page,
  kind: "audio" | "video",
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const [sa, sb] = await Promise.all([rtpStats(a), rtpStats(b)]);
    last = { a: sa?.[kind], b: sb?.[kind] };
    const flows = (s: RtpCounters | null): boolean =>
      s !== null &&
      s[kind].packetsSent > 0 &&
      s[kind].bytesSent > 0 &&
      s[kind].packetsReceived > 0 &&
      s[kind].bytesReceived > 0;
    if (flows(sa) && flows(sb)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} did not flow both ways within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** The call screen in `state` (bounded by the default timeout). */
export async function waitCallState(page: Page, state: string, timeoutMs?: number): Promise<void> {
  await page
    .locator(`[data-testid="call-screen"][data-state="${state}"]`)
    .waitFor(timeoutMs === undefined ? {} : { timeout: timeoutMs });
}

/** A call entry in the open conversation with these attributes. */
export function callEntry(
  page: Page,
  attrs: { direction: "outgoing" | "incoming"; outcome: string; missed?: boolean },
): Locator {
  let sel = `[data-testid="call-entry"][data-call-direction="${attrs.direction}"][data-call-outcome="${attrs.outcome}"]`;
  if (attrs.missed !== undefined) sel += `[data-call-missed="${attrs.missed}"]`;
  return page.getByTestId("message-list").locator(sel);
}

/** Waits (bounded) until the remote video element on `page` shows decoded frames. */
export async function waitRemoteVideoFrames(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="call-remote-video"]');
    return v !== null && v.videoWidth > 0 && v.currentTime > 0;
  });
}

/** Closes a "call ended" notice if one is still showing. */
export async function dismissEnded(page: Page): Promise<void> {
  const close = byTestId(page, "call-close");
  if (await close.isVisible()) await close.click();
  await byTestId(page, "call-screen").waitFor({ state: "hidden" });
}
