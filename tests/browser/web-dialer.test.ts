// A person calls a phone from the web app's dialer ("Call a phone" beside "New chat"), through the
// SIP gateway: a SIP address that Debian's baresip answers (connected, with the gateway note; the page
// hangs up and the phone sees BYE), an address whose network plays early media (a 183 with SDP from a
// hand-written SIP peer: the page says so and plays it before the answer), a call held from the call
// screen (a re-INVITE the peer refuses, then takes), a number with no trunk at the gateway (unreachable, in words), and
// a second person the gateway's operator did not allow to call phones, on a Korean 375 px phone
// (declined, with the hint that the operator decides).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { newUser } from "../helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { RawSipSocket } from "../sip-raw.ts";
import { answerSdp, reply, ToneLeg } from "../sip-callee.ts";
import { byTestId, dismissEnded, openCallDevice, rtpStats, signUp, waitCallState } from "./call-helpers.ts";
import { assertNoErrors, screenshot, startWebServer, type TestDevice } from "./harness.ts";
import { portBase } from "../port-base.ts";

/** This file's phone ports: apart from the other SIP suites' ranges. */
const PHONE_BASE = portBase("browser-web-dialer");
const PHONE_TONE_HZ = 1000;
const GATEWAY = "wdial_gw";
const startsWith = (prefix: string) => (m: string) => m.startsWith(prefix);

describe("web app: the dialer calls a phone through the SIP gateway", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let gw: SoriClient | undefined;
  let gateway: SipGateway | undefined;
  let phone: SipPhone | undefined;
  let alice: TestDevice | undefined;
  let minji: TestDevice | undefined;

  before(async () => {
    ({ url, stop } = await startWebServer(["--gateways", GATEWAY]));
    gw = await newUser(url, GATEWAY);
    gateway = await startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 51_000, max: 51_998 },
      loopback: true,
      // Only Alice may call phones through this gateway; no trunk, so numbers cannot be reached.
      outbound: ["wdial_alice"],
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });
    phone = await SipPhone.start({
      sipPort: PHONE_BASE,
      controlPort: PHONE_BASE + 2,
      toneHz: PHONE_TONE_HZ,
      user: "carol",
      autoAnswer: true,
    });
    alice = await openCallDevice(url);
    await signUp(alice.page, "wdial_alice");
  });
  /** Alice dials `sip:<user>@` a hand-written SIP peer from the dialer; its INVITE, and a socket for its RTP. */
  const dialRawPeer = async (user: string): Promise<{ sip: RawSipSocket; tone: ToneLeg; invite: string }> => {
    const page = alice!.page;
    const sip = await RawSipSocket.open();
    const tone = await ToneLeg.open();
    await byTestId(page, "call-phone-button").click();
    await byTestId(page, "dialer-target").fill(`sip:${user}@127.0.0.1:${sip.port}`);
    await byTestId(page, "dialer-gateway").fill(GATEWAY);
    await byTestId(page, "dialer-call").click();
    const invite = await sip.next(startsWith("INVITE "), 15_000);
    return { sip, tone, invite };
  };
  /** Alice hangs up a call with such a peer: it gets the BYE, and the page's ended screen is dismissed. */
  const hangUpRawPeer = async (sip: RawSipSocket): Promise<void> => {
    const page = alice!.page;
    await byTestId(page, "call-hangup").click();
    await sip.next(startsWith("BYE "), 10_000);
    await waitCallState(page, "ended");
    await dismissEnded(page);
  };
  after(async () => {
    await phone?.stop().catch(() => undefined);
    await alice?.close().catch(() => undefined);
    await minji?.close().catch(() => undefined);
    await gateway?.stop().catch(() => undefined);
    await gw?.close().catch(() => undefined);
    await stop?.();
  });

  it(
    "dials a SIP address: the phone answers, the page shows the address and the gateway note, and hangs up",
    {
      timeout: 60_000,
    },
    async () => {
      const page = alice!.page;
      const uri = `sip:carol@127.0.0.1:${PHONE_BASE}`;
      await byTestId(page, "call-phone-button").click();
      const dialer = byTestId(page, "dialer");
      await dialer.getByRole("heading", { name: "Call a phone" }).waitFor();
      assert.match(
        await byTestId(page, "dialer-e2ee").innerText(),
        /end-to-end encrypted only as far as the gateway/,
      );

      // Anything that is neither a number nor a sip:/sips: address is refused before a call is placed.
      await byTestId(page, "dialer-target").fill("carol@example.net");
      await byTestId(page, "dialer-gateway").fill(GATEWAY);
      await byTestId(page, "dialer-call").click();
      assert.match(await byTestId(page, "dialer-error").innerText(), /isn't a phone number or a SIP address/);
      assert.equal(await byTestId(page, "dialer-target").getAttribute("aria-invalid"), "true");
      assert.equal(gateway!.stats().callsTotal, 0, "no call was placed");

      await byTestId(page, "dialer-target").fill(uri);
      await screenshot(page, "dialer-sip-address");
      await byTestId(page, "dialer-call").click();
      await waitCallState(page, "connected", 20_000);
      await phone!.waitEvent("CALL_ESTABLISHED", 10_000);
      await dialer.waitFor({ state: "hidden" });
      assert.equal(
        await byTestId(page, "call-peer-name").innerText(),
        uri,
        "the call screen names who is called",
      );
      assert.equal(
        (await byTestId(page, "call-via-gateway").innerText()).trim(),
        `Phone call via ${GATEWAY} — not end-to-end encrypted`,
      );
      assert.equal(
        await byTestId(page, "call-camera").count(),
        0,
        "no camera button: the gateway carries audio only",
      );
      await byTestId(page, "call-phone-disc").waitFor();
      await screenshot(page, "dialer-call-connected");
      await byTestId(page, "call-hangup").click();
      await phone!.waitEvent("CALL_CLOSED", 10_000);
      await waitCallState(page, "ended");
      assert.match(await byTestId(page, "call-status").innerText(), /Call ended/);
      await dismissEnded(page);
      assertNoErrors(alice!);
    },
  );

  it(
    "dials an address whose network plays early media: the page says so and plays it before the answer, then connects",
    {
      timeout: 60_000,
    },
    async () => {
      const page = alice!.page;
      const { sip, tone, invite } = await dialRawPeer("ivr");
      try {
        sip.send(
          reply(invite, "183 Session Progress", { toTag: "ivr1", body: answerSdp(tone.port) }),
          gateway!.port,
        );
        tone.play(PHONE_TONE_HZ, Number(/^m=audio (\d+)/m.exec(invite)?.[1]));
        await waitCallState(page, "early-media", 15_000);
        assert.equal(
          await byTestId(page, "call-status").innerText(),
          "Not answered yet · sound from the phone network",
        );
        assert.equal(await byTestId(page, "call-hangup").getAttribute("aria-label"), "Cancel call");
        assert.equal(await byTestId(page, "call-mute").isDisabled(), true);
        // The network's audio plays on the page while the call is still unanswered.
        let heard = 0;
        for (let i = 0; i < 50 && heard < 25; i++) {
          heard = (await rtpStats(page))?.audio.packetsReceived ?? 0;
          if (heard < 25) await page.waitForTimeout(200);
        }
        assert.ok(heard >= 25, `the page receives the early media (${heard} packets)`);
        assert.equal(await page.getByTestId("call-screen").getAttribute("data-state"), "early-media");
        await screenshot(page, "dialer-early-media");
        sip.send(
          reply(invite, "200 OK", { toTag: "ivr1", body: answerSdp(tone.port), port: sip.port }),
          gateway!.port,
        );
        await sip.next(startsWith("ACK "), 10_000);
        await waitCallState(page, "connected", 15_000);
        await hangUpRawPeer(sip);
        assertNoErrors(alice!);
      } finally {
        tone.close();
        sip.close();
      }
    },
  );

  it(
    "holds a phone call from the call screen: a re-INVITE the phone may refuse (said on the page), resume, hold again",
    {
      timeout: 60_000,
    },
    async () => {
      const page = alice!.page;
      const { sip, tone, invite } = await dialRawPeer("desk");
      try {
        sip.send(
          reply(invite, "200 OK", { toTag: "desk1", body: answerSdp(tone.port), port: sip.port }),
          gateway!.port,
        );
        tone.play(PHONE_TONE_HZ, Number(/^m=audio (\d+)/m.exec(invite)?.[1]));
        await sip.next(startsWith("ACK "), 10_000);
        await waitCallState(page, "connected", 15_000);
        const hold = byTestId(page, "call-hold");
        assert.equal(await hold.getAttribute("aria-label"), "Hold call");

        // The phone refuses: the page says it was not told.
        await hold.click();
        const refused = await sip.next(startsWith("INVITE "), 10_000);
        assert.match(refused, /^a=sendonly$/m);
        sip.send(reply(refused, "488 Not Acceptable Here"), gateway!.port);
        await sip.next(startsWith("ACK "), 5000);
        await byTestId(page, "call-hold-failed").waitFor({ timeout: 10_000 });
        assert.equal(
          await byTestId(page, "call-hold-failed").innerText(),
          "On hold here, but the phone wasn't told: it hears silence",
        );
        assert.equal(await hold.getAttribute("aria-pressed"), "true");
        await screenshot(page, "dialer-hold-failed");
        await hold.click();
        await byTestId(page, "call-hold-failed").waitFor({ state: "hidden", timeout: 10_000 });
        assert.equal(await hold.getAttribute("aria-label"), "Hold call");

        // Held again, and this time the phone takes it.
        await hold.click();
        const held = await sip.next(startsWith("INVITE "), 10_000);
        assert.match(held, /^a=sendonly$/m);
        sip.send(
          reply(held, "200 OK", {
            body: answerSdp(tone.port, { direction: "recvonly" }),
            port: sip.port,
          }),
          gateway!.port,
        );
        await byTestId(page, "call-on-hold").waitFor({ timeout: 10_000 });
        assert.equal(await byTestId(page, "call-on-hold").innerText(), "You put the call on hold");
        assert.equal(await hold.getAttribute("aria-label"), "Resume call");
        await hangUpRawPeer(sip);
        assertNoErrors(alice!);
      } finally {
        tone.close();
        sip.close();
      }
    },
  );

  it(
    "dials a number with the keypad and Enter: with no trunk at the gateway, the page says it could not be reached",
    {
      timeout: 60_000,
    },
    async () => {
      const page = alice!.page;
      phone!.clearEvents();
      await byTestId(page, "call-phone-button").click();
      // The gateway of the last call is remembered on this device.
      assert.equal(await byTestId(page, "dialer-gateway").inputValue(), GATEWAY);
      const field = byTestId(page, "dialer-target");
      await field.fill("+82 (10) 1234-56");
      for (const key of ["7", "8", "*"]) await byTestId(page, `dial-key-${key}`).click();
      await byTestId(page, "dial-backspace").click();
      assert.equal(await field.inputValue(), "+82 (10) 1234-5678");
      await field.focus();
      await field.press("Enter");
      await waitCallState(page, "ended", 15_000);
      assert.equal(await page.getByTestId("call-screen").getAttribute("data-end-reason"), "unreachable");
      assert.equal(await byTestId(page, "call-peer-name").innerText(), "+821012345678");
      assert.equal(
        await byTestId(page, "call-status").innerText(),
        "The number or address could not be reached",
      );
      assert.match(await byTestId(page, "call-end-hint").innerText(), /no way out to phone numbers/);
      assert.match(await byTestId(page, "call-via-gateway").innerText(), /not end-to-end encrypted/);
      await screenshot(page, "dialer-number-unreachable");
      await dismissEnded(page);
      assert.equal(
        phone!.events.filter((e) => e.type === "CALL_INCOMING").length,
        0,
        "the number never reached the SIP phone",
      );
      assertNoErrors(alice!);
    },
  );

  it(
    "someone the gateway does not let call phones is declined, said in Korean on a 375 px phone with the operator hint",
    {
      timeout: 60_000,
    },
    async () => {
      minji = await openCallDevice(url, { locale: "ko-KR", width: 375, height: 740 });
      await signUp(minji.page, "wdial_minji");
      const page = minji.page;
      const before = gateway!.stats().callsTotal;
      phone!.clearEvents();
      await byTestId(page, "call-phone-button").click();
      await byTestId(page, "dialer").getByRole("heading", { name: "전화 걸기" }).waitFor();
      // Nothing remembered and no phone line: the gateway is typed.
      assert.equal(await byTestId(page, "dialer-gateway").inputValue(), "");
      await byTestId(page, "dialer-target").fill(`sip:carol@127.0.0.1:${PHONE_BASE}`);
      await byTestId(page, "dialer-gateway").fill(GATEWAY);
      // The whole dialer fits the phone's width.
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `no sideways scrolling (${width} px)`);
      const call = await byTestId(page, "dialer-call").boundingBox();
      assert.ok(call && call.y + call.height <= 740, "the call button is in view without scrolling");
      await screenshot(page, "dialer-ko-phone");
      await byTestId(page, "dialer-gateway").press("Enter");
      await waitCallState(page, "ended", 15_000);
      assert.equal(await page.getByTestId("call-screen").getAttribute("data-end-reason"), "declined");
      assert.equal(await byTestId(page, "call-status").innerText(), "통화가 거절되었어요");
      assert.match(
        await byTestId(page, "call-end-hint").innerText(),
        new RegExp(`${GATEWAY}.*게이트웨이 운영자가 정해요`),
      );
      await screenshot(page, "dialer-declined-ko-phone");
      assert.equal(gateway!.stats().callsTotal, before, "the gateway placed no call");
      assert.equal(phone!.events.filter((e) => e.type === "CALL_INCOMING").length, 0, "the phone never rang");
      await dismissEnded(page);
      assertNoErrors(minji);
    },
  );
});
