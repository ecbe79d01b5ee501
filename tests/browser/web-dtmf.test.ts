// A person on a phone call from the web app presses keys on the call screen's keypad (a phone menu's
// "press 1"): the browser sends RFC 4733 telephone-events, the SIP gateway relays them with the
// phone's payload type, and Debian's baresip (PCMU) reports each digit it received.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { newUser } from "../helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { byTestId, openCallDevice, signUp, waitCallState } from "./call-helpers.ts";
import { assertNoErrors, screenshot, startWebServer, type TestDevice } from "./harness.ts";
import { portBase } from "../port-base.ts";

/** This file's phone ports: apart from the other SIP suites' ranges. */
const PHONE_BASE = portBase("browser-web-dtmf");
const GATEWAY = "wdtmf_gw";

describe("web app: keypad tones reach a phone through the SIP gateway", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let gw: SoriClient | undefined;
  let gateway: SipGateway | undefined;
  let phone: SipPhone | undefined;
  let alice: TestDevice | undefined;

  before(async () => {
    ({ url, stop } = await startWebServer(["--gateways", GATEWAY]));
    gw = await newUser(url, GATEWAY);
    gateway = await startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 53_000, max: 53_998 },
      loopback: true,
      outbound: ["wdtmf_alice"],
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });
    phone = await SipPhone.start({
      sipPort: PHONE_BASE,
      controlPort: PHONE_BASE + 2,
      toneHz: 1000,
      codecs: "PCMU/8000/1",
      user: "carol",
      autoAnswer: true,
    });
    alice = await openCallDevice(url);
    await signUp(alice.page, "wdtmf_alice");
  });
  after(async () => {
    await phone?.stop().catch(() => undefined);
    await alice?.close().catch(() => undefined);
    await gateway?.stop().catch(() => undefined);
    await gw?.close().catch(() => undefined);
    await stop?.();
  });

  it(
    "presses 1, 2 and # on the in-call keypad: the phone receives each digit",
    { timeout: 60_000 },
    async () => {
      const page = alice!.page;
      await byTestId(page, "call-phone-button").click();
      await byTestId(page, "dialer-target").fill(`sip:carol@127.0.0.1:${PHONE_BASE}`);
      await byTestId(page, "dialer-gateway").fill(GATEWAY);
      await byTestId(page, "dialer-call").click();
      await waitCallState(page, "connected", 20_000);
      await phone!.waitEvent("CALL_ESTABLISHED", 10_000);
      await byTestId(page, "call-keypad").click();
      const keypad = byTestId(page, "call-dtmf-keypad");
      await keypad.waitFor();
      assert.equal(await keypad.getByTestId("dial-backspace").count(), 0, "no delete key in a call");
      await screenshot(page, "call-dtmf-keypad");
      const digits: string[] = [];
      for (const key of ["1", "2", "#"]) {
        await keypad.getByTestId(`dial-key-${key}`).click();
        // One key at a time: the phone reports the start of each event it receives.
        const event = await phone!.waitEvent("CALL_DTMF_START", 5_000);
        digits.push(event.param ?? "");
      }
      assert.deepEqual(digits, ["1", "2", "#"]);
      await byTestId(page, "call-hangup").click();
      await phone!.waitEvent("CALL_CLOSED", 10_000);
      await waitCallState(page, "ended");
      assertNoErrors(alice!);
    },
  );
});
