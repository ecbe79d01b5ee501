// A phone (Debian's baresip) calls a person using the web app, through the SIP gateway: the page
// says it is a phone call through the gateway and not end-to-end encrypted, and each side hears the
// other's tone (the phone's 1000 Hz measured in the page with Web Audio, the browser's 440 Hz in what
// the phone decoded). With a PCMU, an Opus and a G.722 phone (no transcoding either way).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { newUser } from "../helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { readWav, toneShare, toneWav } from "../tone-detect.ts";
import { assertNoErrors, screenshot, startWebServer, type TestDevice } from "./harness.ts";
import { byTestId, openCallDevice, rtpStats, signUp, waitCallState } from "./call-helpers.ts";

const BROWSER_TONE_HZ = 440;
const PHONE_TONE_HZ = 1000;
const PHONE_BASE = 27_000 + (process.pid % 500) * 8;

/** The strongest frequency (Hz) in the call's remote audio, measured in the page over ~1 s. */
function remotePeakHz(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const audio = document.querySelector("audio");
    const stream = audio?.srcObject;
    if (!(stream instanceof MediaStream)) return -1;
    const ctx = new AudioContext();
    await ctx.resume();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const sum = new Float32Array(analyser.frequencyBinCount);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100));
      analyser.getFloatFrequencyData(bins);
      for (let b = 0; b < bins.length; b++) sum[b]! += Math.pow(10, bins[b]! / 10);
    }
    let best = 0;
    for (let b = 1; b < sum.length; b++) if (sum[b]! > sum[best]!) best = b;
    const hz = (best * ctx.sampleRate) / analyser.fftSize;
    await ctx.close();
    return hz;
  });
}

describe("a phone calls the web app through the SIP gateway", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let dir = "";
  let gw: SoriClient | undefined;
  let gateway: SipGateway | undefined;
  let alice: TestDevice | undefined;

  before(async () => {
    ({ url, stop } = await startWebServer(["--gateways", "webphonegw"]));
    dir = mkdtempSync(join(tmpdir(), "sori-web-sip-"));
    const wav = join(dir, "tone.wav");
    writeFileSync(wav, toneWav(BROWSER_TONE_HZ, 10));
    gw = await newUser(url, "webphonegw");
    gateway = await startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 45_000, max: 45_998 },
      loopback: true,
      log: createLogger("error"),
    });
    alice = await openCallDevice(url, { microphoneWav: wav });
    await signUp(alice.page, "webalice");
  });
  after(async () => {
    await alice?.close().catch(() => undefined);
    await gateway?.stop();
    await gw?.close();
    await stop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [codecs, name, port] of [
    ["PCMU/8000/1", "PCMU", PHONE_BASE],
    ["opus/48000/2", "Opus", PHONE_BASE + 4],
    ["G722/16000/1", "G.722", PHONE_BASE + 8],
  ] as const) {
    it(
      `${name === "Opus" ? "an" : "a"} ${name} phone: the page labels the call and each side hears the other's tone`,
      { timeout: 60_000 },
      async () => {
        const page = alice!.page;
        const phone = await SipPhone.start({
          sipPort: port,
          controlPort: port + 2,
          toneHz: PHONE_TONE_HZ,
          codecs,
        });
        try {
          phone.dial(`sip:webalice@127.0.0.1:${gateway!.port}`);
          await byTestId(page, "incoming-call").waitFor();
          assert.match(await byTestId(page, "incoming-call-name").innerText(), /sip:phone@127\.0\.0\.1/);
          assert.match(
            await byTestId(page, "call-via-gateway").innerText(),
            /Phone call via webphonegw — not end-to-end encrypted/,
          );
          assert.equal(await byTestId(page, "call-answer-video").count(), 0, "no video answer for a phone");
          if (name === "PCMU") await screenshot(page, "sip-incoming-phone-call");
          await byTestId(page, "call-answer").click();
          await waitCallState(page, "connected");
          await phone.waitEvent("CALL_ESTABLISHED");
          await byTestId(page, "call-via-gateway").waitFor();
          const deadline = Date.now() + 10_000;
          for (;;) {
            const s = await rtpStats(page);
            if (s && s.audio.packetsReceived > 50 && s.audio.packetsSent > 50) break;
            if (Date.now() > deadline) assert.fail(`audio did not flow both ways: ${JSON.stringify(s)}`);
            await page.waitForTimeout(250);
          }
          const peak = await remotePeakHz(page);
          assert.ok(
            Math.abs(peak - PHONE_TONE_HZ) < 30,
            `the page hears the phone's ${PHONE_TONE_HZ} Hz (peak ${peak.toFixed(0)} Hz)`,
          );
          await page.waitForTimeout(500);
          if (name === "PCMU") {
            // After the second of the phone's audio checked below: the phone holds, then resumes.
            await page.waitForTimeout(1000);
            phone.command("hold");
            await byTestId(page, "call-remote-held").waitFor({ timeout: 10_000 });
            assert.match(await byTestId(page, "call-remote-held").innerText(), /put the call on hold/);
            await screenshot(page, "sip-phone-call-held");
            phone.command("resume");
            await byTestId(page, "call-remote-held").waitFor({ state: "detached", timeout: 10_000 });
          }
          await byTestId(page, "call-hangup").click();
          await phone.waitEvent("CALL_CLOSED");
          const wavBytes = phone.decodedWav();
          assert.ok(wavBytes, "the phone saved what it heard");
          const { sampleRate, samples } = readWav(wavBytes);
          const middle = samples.subarray(Math.floor(sampleRate * 1), Math.floor(sampleRate * 2));
          const share = toneShare(middle, sampleRate, BROWSER_TONE_HZ);
          assert.ok(
            share > 0.5,
            `the phone hears the browser's ${BROWSER_TONE_HZ} Hz (share ${share.toFixed(2)})`,
          );
          const close = byTestId(page, "call-close");
          if (await close.count()) await close.click();
          assertNoErrors(alice!);
        } finally {
          await phone.stop();
        }
      },
    );
  }
});
