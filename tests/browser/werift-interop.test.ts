// Chromium and the CLI's werift call stack understand each other's media: Chromium decodes the
// werift tone (PCMU) and the VP8 keyframe fixture, and werift receives Chromium's fake camera and
// microphone. Direct offer/answer, no Sori signalling: this checks the media formats only.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type BrowserContext, chromium } from "playwright-core";
import { weriftPlatform } from "@sori/werift-calls";
import { startTestServer, type TestServer } from "../helpers.ts";

const CHROMIUM = process.env.SORI_CHROMIUM ?? "/usr/bin/chromium";
const keepLoopback = (sdp: string): string =>
  sdp
    .split("\r\n")
    .filter((l) => !l.startsWith("a=candidate:") || l.includes(" 127.0.0.1 "))
    .join("\r\n");

let server: TestServer;
let context: BrowserContext;
let profile: string;

before(async () => {
  server = await startTestServer();
  profile = mkdtempSync(join(tmpdir(), "sori-interop-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      "--allow-loopback-in-peer-connection",
    ],
  });
});

after(async () => {
  await context?.close();
  await server?.stop();
  rmSync(profile, { recursive: true, force: true });
});

it("Chromium decodes werift's PCMU tone and VP8 frames, and werift receives Chromium's media", async () => {
  const page = await context.newPage();
  // A page on http://127.0.0.1 is a secure context, so the fake camera and microphone are available.
  await page.goto(`${server.url}/healthz`);
  const { platform, counters } = weriftPlatform({ loopback: true });
  const pc = platform.createPeerConnection({ iceServers: [], iceTransportPolicy: "all", callId: "interop" });
  const audio = pc.addTransceiver("audio", { direction: "sendrecv" });
  const video = pc.addTransceiver("video", { direction: "sendrecv" });
  const media = await platform.startMedia({ callId: "interop", audio, video, cameraOn: true });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => setTimeout(r, 200));
    const answer = await page.evaluate(
      async (offer: string) => {
        const p = new RTCPeerConnection();
        (window as unknown as { p: RTCPeerConnection }).p = p;
        await p.setRemoteDescription({ type: "offer", sdp: offer });
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
        const [a, v] = p.getTransceivers();
        a!.direction = "sendrecv";
        v!.direction = "sendrecv";
        await a!.sender.replaceTrack(stream.getAudioTracks()[0]!);
        await v!.sender.replaceTrack(stream.getVideoTracks()[0]!);
        await p.setLocalDescription(await p.createAnswer());
        await new Promise<void>((done) => {
          const t = setTimeout(done, 3000);
          p.onicegatheringstatechange = () => {
            if (p.iceGatheringState === "complete") {
              clearTimeout(t);
              done();
            }
          };
        });
        return p.localDescription!.sdp;
      },
      keepLoopback(pc.localDescription?.sdp ?? ""),
    );
    await pc.setRemoteDescription({ type: "answer", sdp: keepLoopback(answer) });
    const inbound = (): Promise<{ audio: number; videoFrames: number }> =>
      page.evaluate(async () => {
        const r = { audio: 0, videoFrames: 0 };
        (await (window as unknown as { p: RTCPeerConnection }).p.getStats()).forEach(
          (s: Record<string, unknown>) => {
            if (s.type !== "inbound-rtp") return;
            if (s.kind === "audio") r.audio = Number(s.packetsReceived ?? 0);
            if (s.kind === "video") r.videoFrames = Number(s.framesDecoded ?? 0);
          },
        );
        return r;
      });
    const deadline = Date.now() + 15_000;
    let seen = await inbound();
    while ((seen.audio < 50 || seen.videoFrames < 5 || counters.receivedVideo < 5) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await inbound();
    }
    assert.ok(seen.audio >= 50, `Chromium received ${seen.audio} PCMU packets`);
    assert.ok(seen.videoFrames >= 5, `Chromium decoded ${seen.videoFrames} VP8 frames`);
    assert.ok(
      counters.received - counters.receivedVideo >= 50,
      `werift received ${counters.received} packets`,
    );
    assert.ok(counters.receivedVideo >= 5, `werift received ${counters.receivedVideo} video packets`);
  } finally {
    media.stop();
    pc.close();
  }
});
