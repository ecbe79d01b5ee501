// Calls between browsers, end to end in real Chromium with fake microphone and camera: a voice call
// upgraded to video (RTP checked in getStats both ways), a call that rings two devices of the callee,
// a declined call and a missed one, each leaving the right entry in the chat on both sides.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { signInApproved } from "./approval.ts";
import { assertNoErrors, screenshot, startWebServer, type TestDevice } from "./harness.ts";
import {
  byTestId,
  callEntry,
  chatItem,
  directChat,
  dismissEnded,
  openCallDevice,
  iceRestarts,
  rtpStats,
  signUp,
  waitCallState,
  waitMediaBothWays,
  waitRemoteVideoFrames,
} from "./call-helpers.ts";

const TEST_TIMEOUT_MS = 60_000;
/** Alice's calls ring this long before "no answer" (set through the app's test hooks). */
const RING_MS = 6000;

describe("calls in the web app", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  const devices: TestDevice[] = [];
  let alice: TestDevice;
  let bob: TestDevice;
  let bob2: TestDevice;

  before(async () => {
    ({ url, stop } = await startWebServer());
    [alice, bob] = await Promise.all([openCallDevice(url, { ringTimeoutMs: RING_MS }), openCallDevice(url)]);
    devices.push(alice, bob);
    await Promise.all([signUp(alice.page, "alice"), signUp(bob.page, "bob")]);
    await directChat(alice.page, "bob", "alice", [bob.page]);
  });

  after(async () => {
    for (const d of devices) await d.close().catch(() => undefined);
    await stop?.();
  });

  const noErrors = (): void => {
    for (const d of devices) assertNoErrors(d);
  };

  it(
    "a voice call connects, audio flows both ways, it becomes a video call, and hang-up leaves history on both sides",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      await byTestId(alice.page, "call-voice-button").click();
      await waitCallState(alice.page, "ringing-out");
      const incoming = byTestId(bob.page, "incoming-call");
      await incoming.waitFor();
      assert.equal(await incoming.getAttribute("data-media"), "audio");
      assert.equal(await byTestId(bob.page, "incoming-call-name").innerText(), "alice");
      assert.equal(await bob.page.title(), "📞 alice is calling…");
      await screenshot(bob.page, "desktop-en-incoming-call");
      // The answer button has the focus: Enter answers.
      await bob.page.keyboard.press("Enter");
      await Promise.all([waitCallState(alice.page, "connected"), waitCallState(bob.page, "connected")]);
      await waitMediaBothWays(alice.page, bob.page, "audio");
      await byTestId(alice.page, "call-quality").waitFor();
      assert.match(await byTestId(alice.page, "call-status").innerText(), /^\d+:\d\d$/);

      // The network changed ("online"): the caller restarts ICE at once and the call carries on.
      await alice.page.evaluate(() => window.dispatchEvent(new Event("online")));
      await waitFor(alice.page, async () => (await iceRestarts(alice.page)) === 1);
      const heard = (await rtpStats(bob.page))?.audio.packetsReceived ?? 0;
      await waitFor(
        alice.page,
        async () => ((await rtpStats(bob.page))?.audio.packetsReceived ?? 0) > heard + 20,
      );
      assert.equal(await byTestId(alice.page, "call-screen").getAttribute("data-state"), "connected");

      // Mute shows on the other side; unmute again.
      await byTestId(alice.page, "call-mute").click();
      assert.equal(await byTestId(alice.page, "call-mute").getAttribute("aria-pressed"), "true");
      await bob.page.getByText("alice is muted").waitFor();
      await byTestId(alice.page, "call-mute").click();
      await bob.page.getByText("alice is muted").waitFor({ state: "hidden" });

      // Switching the microphone keeps the call going (replaceTrack, no renegotiation).
      await byTestId(alice.page, "call-devices").click();
      // Listed once enumerateDevices answered; the option of the microphone in use is selected.
      const mics = byTestId(alice.page, "call-device-audio").locator('option:not([value=""])');
      await mics.first().waitFor({ state: "attached" });
      const values = await mics.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      assert.ok(
        await byTestId(alice.page, "call-device-audio").inputValue(),
        "the microphone in use is selected",
      );
      const before = (await rtpStats(alice.page))?.audio.packetsSent ?? 0;
      await byTestId(alice.page, "call-device-audio").selectOption(values[values.length - 1]!);
      await waitFor(
        alice.page,
        async () => ((await rtpStats(alice.page))?.audio.packetsSent ?? 0) > before + 20,
      );
      await byTestId(alice.page, "call-devices").click();

      // Bob (the callee, so the caller renegotiates at his request) turns his camera on: the voice call
      // becomes a video call. Alice turns hers on too.
      assert.equal(await byTestId(bob.page, "call-camera").getAttribute("aria-label"), "Turn camera on");
      await byTestId(bob.page, "call-camera").click();
      await byTestId(bob.page, "call-self-video").waitFor();
      await byTestId(alice.page, "call-remote-video").waitFor();
      await waitRemoteVideoFrames(alice.page);
      assert.equal(await byTestId(alice.page, "call-screen").getAttribute("data-media"), "video");
      await byTestId(alice.page, "call-camera").click();
      await byTestId(bob.page, "call-remote-video").waitFor();
      await waitMediaBothWays(alice.page, bob.page, "video");
      await waitRemoteVideoFrames(bob.page);
      assert.equal(await byTestId(bob.page, "call-camera").getAttribute("aria-pressed"), "true");
      await screenshot(alice.page, "desktop-en-video-call");

      await byTestId(alice.page, "call-hangup").click();
      await Promise.all([waitCallState(alice.page, "ended"), waitCallState(bob.page, "ended")]);
      assert.equal(await byTestId(bob.page, "call-screen").getAttribute("data-end-reason"), "remote-hangup");
      assert.match(await byTestId(bob.page, "call-status").innerText(), /^Call ended · \d+:\d\d$/);
      await byTestId(bob.page, "call-close").click();
      await byTestId(bob.page, "call-screen").waitFor({ state: "hidden" });

      const aliceEntry = callEntry(alice.page, { direction: "outgoing", outcome: "answered" });
      const bobEntry = callEntry(bob.page, { direction: "incoming", outcome: "answered", missed: false });
      await Promise.all([aliceEntry.waitFor(), bobEntry.waitFor()]);
      assert.match(await aliceEntry.innerText(), /^Outgoing video call · \d+:\d\d$/);
      assert.match(await bobEntry.innerText(), /^Incoming video call · \d+:\d\d$/);
      await dismissEnded(alice.page);
      await screenshot(alice.page, "desktop-en-call-history");
      noErrors();
    },
  );

  it(
    "a call rings every device of the callee; the first to answer takes it, the other stops ringing",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      // Bob's second device is a phone in Korean with the dark theme.
      bob2 = await openCallDevice(url, { locale: "ko-KR", width: 375, height: 812, dark: true });
      devices.push(bob2);
      await signInApproved(bob2.page, "bob", bob.page);
      // Alice's next message adds Bob's new device to their chat.
      const composer = byTestId(alice.page, "composer");
      await composer.fill("you have a new device");
      await composer.press("Enter");
      await chatItem(bob2.page, "alice").click();
      await byTestId(bob2.page, "composer").waitFor();
      await screenshot(bob2.page, "mobile-ko-dark-conversation");

      const aliceAnswered = callEntry(alice.page, { direction: "outgoing", outcome: "answered" });
      const answeredBefore = await aliceAnswered.count();
      // Bob's first device already shows the entry of the first test's call: wait for a new one, not
      // for "one" (which passed on the old entry, or failed strict mode once the new one was there).
      const bobsAnswered = [bob.page, bob2.page].map((p) =>
        callEntry(p, { direction: "incoming", outcome: "answered", missed: false }),
      );
      const bobsBefore = await Promise.all(bobsAnswered.map((l) => l.count()));
      await byTestId(alice.page, "call-video-button").click();
      await Promise.all([
        byTestId(bob.page, "incoming-call").waitFor(),
        byTestId(bob2.page, "incoming-call").waitFor(),
      ]);
      assert.equal(await byTestId(bob2.page, "incoming-call").getAttribute("data-media"), "video");
      assert.equal(await byTestId(bob2.page, "call-answer-video").innerText(), "영상으로 받기");
      await screenshot(bob2.page, "mobile-ko-dark-incoming-call");
      await byTestId(bob2.page, "call-answer-video").click();
      await waitCallState(bob.page, "ended");
      assert.equal(
        await byTestId(bob.page, "call-screen").getAttribute("data-end-reason"),
        "answered-elsewhere",
      );
      await bob.page.getByText("Answered on another device").waitFor();
      await Promise.all([waitCallState(alice.page, "connected"), waitCallState(bob2.page, "connected")]);
      await waitMediaBothWays(alice.page, bob2.page, "video");
      await Promise.all([waitRemoteVideoFrames(alice.page), waitRemoteVideoFrames(bob2.page)]);
      assert.equal(await byTestId(bob2.page, "call-hangup").getAttribute("aria-label"), "통화 종료");
      await screenshot(bob2.page, "mobile-ko-dark-video-call");
      await waitMediaBothWays(alice.page, bob2.page, "audio");

      await byTestId(bob2.page, "call-hangup").click();
      await Promise.all([waitCallState(alice.page, "ended"), waitCallState(bob2.page, "ended")]);
      // Every device of both people gets the entry.
      for (const [i, entries] of bobsAnswered.entries()) await entries.nth(bobsBefore[i]!).waitFor();
      await aliceAnswered.nth(answeredBefore).waitFor();
      noErrors();
    },
  );

  it(
    "declined, unanswered and cancelled calls leave the right entries; missed calls count as unread; call back",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      for (const p of [alice.page, bob.page, bob2.page]) await dismissEnded(p);
      await byTestId(alice.page, "call-voice-button").click();
      await Promise.all([
        byTestId(bob.page, "incoming-call").waitFor(),
        byTestId(bob2.page, "incoming-call").waitFor(),
      ]);
      await byTestId(bob.page, "call-decline").click();
      await waitCallState(alice.page, "ended");
      assert.equal(await byTestId(alice.page, "call-screen").getAttribute("data-end-reason"), "declined");
      await alice.page.getByText("Call declined").waitFor();
      await waitCallState(bob2.page, "ended");
      assert.equal(
        await byTestId(bob2.page, "call-screen").getAttribute("data-end-reason"),
        "declined-elsewhere",
      );
      const declinedOut = callEntry(alice.page, { direction: "outgoing", outcome: "declined" });
      const declinedIn = callEntry(bob.page, { direction: "incoming", outcome: "declined" });
      await Promise.all([declinedOut.waitFor(), declinedIn.waitFor()]);
      assert.equal(await declinedOut.innerText(), "Outgoing voice call · Declined");
      assert.equal(await declinedIn.innerText(), "Incoming voice call · Declined");

      // Nobody answers: after Alice's (shortened) ring time her call ends "no answer", Bob's is missed.
      for (const p of [alice.page, bob.page, bob2.page]) await dismissEnded(p);
      await bob2.page.evaluate(() => {
        window.location.hash = "#/";
      });
      await byTestId(alice.page, "call-voice-button").click();
      await byTestId(bob.page, "incoming-call").waitFor();
      await waitCallState(alice.page, "ended");
      assert.equal(await byTestId(alice.page, "call-screen").getAttribute("data-end-reason"), "no-answer");
      await waitCallState(bob.page, "ended");
      const missed = callEntry(bob.page, { direction: "incoming", outcome: "no-answer", missed: true });
      await missed.waitFor();
      assert.equal(await missed.innerText(), "Missed voice call");
      assert.equal(
        await callEntry(alice.page, { direction: "outgoing", outcome: "no-answer" }).innerText(),
        "Outgoing voice call · No answer",
      );
      // On the device where the chat is not open, the missed call is unread and previews in the list.
      const item = chatItem(bob2.page, "alice");
      await item.and(bob2.page.locator('[data-unread="1"]')).waitFor();
      assert.equal(await item.getByTestId("chat-preview").innerText(), "부재중 음성 통화");

      // Alice cancels while it rings: Bob's prompt closes, and it is one more missed call for him.
      for (const p of [alice.page, bob.page, bob2.page]) await dismissEnded(p);
      await byTestId(alice.page, "call-video-button").click();
      await byTestId(bob.page, "incoming-call").waitFor();
      assert.equal(await byTestId(alice.page, "call-hangup").getAttribute("aria-label"), "Cancel call");
      await byTestId(alice.page, "call-hangup").click();
      await waitCallState(bob.page, "ended");
      assert.equal(await byTestId(alice.page, "call-screen").getAttribute("data-end-reason"), "cancelled");
      const cancelled = callEntry(alice.page, { direction: "outgoing", outcome: "cancelled" });
      await cancelled.waitFor();
      assert.equal(await cancelled.innerText(), "Outgoing video call · Cancelled");
      await callEntry(bob.page, { direction: "incoming", outcome: "cancelled", missed: true }).waitFor();
      await item.and(bob2.page.locator('[data-unread="2"]')).waitFor();
      assert.equal(await item.getByTestId("chat-preview").innerText(), "부재중 영상 통화");

      // Bob calls back from the missed voice call's entry; Alice declines this time.
      for (const p of [alice.page, bob.page, bob2.page]) await dismissEnded(p);
      const callBack = missed.getByTestId("call-back");
      assert.equal(await callBack.getAttribute("aria-label"), "Call back");
      await callBack.click();
      const ringing = byTestId(alice.page, "incoming-call");
      await ringing.waitFor();
      assert.equal(await ringing.getAttribute("data-media"), "audio");
      await byTestId(alice.page, "call-decline").click();
      await waitCallState(bob.page, "ended");
      await callEntry(bob.page, { direction: "outgoing", outcome: "declined" }).waitFor();
      noErrors();
    },
  );
});

async function waitFor(page: Page, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await page.waitForTimeout(200);
  }
  throw new Error("timed out");
}
