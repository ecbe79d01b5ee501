// A Sori user holds a call with a phone and takes it off hold: the gateway tells the phone with
// re-INVITEs (a=sendonly, then a=sendrecv), whose SDP, CSeq and tags a raw SIP peer on loopback
// checks, and what passes each way (RTP packets) is counted. Also glare (491 both ways), a phone
// that refuses the hold, and the phone's own re-INVITE while the Sori side holds.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Call, SoriClient } from "@sori/sdk";
import { weriftPlatform } from "@sori/werift-calls";
import type { SipGateway } from "@sori/sip-gateway";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { RawSipSocket, sipRequest } from "../sip-raw.ts";
import { answerSdp, reply, sipHeader as header, ToneLeg, callOutGateway } from "../sip-callee.ts";
import { sleep, waitFor, waitState } from "./call-helpers.ts";

const CALLER = "shold_dave";
const startsWith = (prefix: string) => (m: string) => m.startsWith(prefix);
const cseqOf = (m: string): number => Number(header(m, "CSeq").split(" ")[0]);
const bodyOf = (m: string): string => m.slice(m.indexOf("\r\n\r\n") + 4);
const versionOf = (m: string): number => Number(/^o=\S+ \S+ (\d+)/m.exec(bodyOf(m))?.[1]);
const directionOf = (m: string): string =>
  /^a=(sendrecv|sendonly|recvonly|inactive)$/m.exec(bodyOf(m))?.[1] ?? "sendrecv";

describe("SIP gateway: the Sori side holds a phone call (re-INVITEs to a raw SIP peer)", () => {
  let t: TestServer;
  let gw: SoriClient;
  let dave: SoriClient;
  let gateway: SipGateway;
  let sip: RawSipSocket;
  let phone: ToneLeg;
  let call: Call;
  let invite = "";
  let toTag = "";
  /** What the Sori caller hears of the phone. */
  let heard = 0;
  const logs: string[] = [];

  /** Packets each way over `ms`, after those in flight have passed. */
  const flowOver = async (ms: number): Promise<{ toSori: number; toPhone: number }> => {
    await sleep(200);
    const [s, p] = [heard, phone.received];
    await sleep(ms);
    return { toSori: heard - s, toPhone: phone.received - p };
  };
  /** The gateway's next re-INVITE, answered `status` (a 200 with the phone's SDP in `direction`). */
  const answerReinvite = async (
    status: string,
    direction = "recvonly",
  ): Promise<{ reinvite: string; ack: string }> => {
    const reinvite = await sip.next(startsWith("INVITE "), 8000);
    const ok = status.startsWith("200");
    sip.send(
      reply(reinvite, status, {
        ...(ok ? { body: answerSdp(phone.port, { direction }), port: sip.port } : {}),
      }),
      gateway.port,
    );
    const ack = await sip.next((m) => m.startsWith("ACK ") && cseqOf(m) === cseqOf(reinvite), 5000);
    return { reinvite, ack };
  };
  let phoneSeq = 100;
  /** A re-INVITE of the phone's own in the dialog. */
  const phoneReinvite = (direction: string): string =>
    sipRequest({
      method: "INVITE",
      uri: `sip:${CALLER}@127.0.0.1:${gateway.port}`,
      from: "<sip:ivr@127.0.0.1>",
      fromTag: toTag,
      to: header(invite, "From"),
      callId: header(invite, "Call-ID"),
      cseq: ++phoneSeq,
      headers: [["Contact", `<sip:ivr@127.0.0.1:${sip.port}>`]],
      body: answerSdp(phone.port, { direction, version: phoneSeq }),
    });

  before(async () => {
    t = await startTestServer(["--gateways", "shold_gw"]);
    gw = await newUser(t.url, "shold_gw");
    dave = await newUser(t.url, CALLER);
    const { platform } = weriftPlatform({ loopback: true, onAudio: () => heard++ });
    dave.calls.configure({ platform, ringTimeoutMs: 20_000, useServerTurn: false });
    gateway = await callOutGateway(gw, { rtpMin: 48_000, outbound: [CALLER], logs });
    sip = await RawSipSocket.open();
    phone = await ToneLeg.open();
    call = await dave.calls.start("shold_gw", {
      via: { network: "sip", uri: `sip:ivr@127.0.0.1:${sip.port}` },
    });
    invite = await sip.next(startsWith("INVITE "), 10_000);
    toTag = "ivr7";
    sip.send(reply(invite, "200 OK", { toTag, body: answerSdp(phone.port), port: sip.port }), gateway.port);
    phone.play(1000, Number(/^m=audio (\d+)/m.exec(invite)?.[1]));
    await sip.next(startsWith("ACK "), 5000);
    await waitState(call, "connected", 15_000);
    await waitFor("audio both ways", () => heard > 25 && phone.received > 25, 10_000);
  });
  after(async () => {
    phone?.close();
    sip?.close();
    await gateway?.stop();
    await dave?.close();
    await gw?.close();
    await t?.stop();
  });

  it("hold is a re-INVITE with a=sendonly in the dialog; nothing passes while held; resume is a=sendrecv", async () => {
    await call.setOnHold(true);
    const { reinvite, ack } = await answerReinvite("200 OK");
    assert.match(
      reinvite,
      new RegExp(`^INVITE sip:ivr@127\\.0\\.0\\.1:${sip.port} SIP/2\\.0`),
      "to the phone's Contact",
    );
    assert.equal(header(reinvite, "Call-ID"), header(invite, "Call-ID"));
    assert.equal(header(reinvite, "From"), header(invite, "From"), "the gateway's From and tag");
    assert.match(header(reinvite, "To"), new RegExp(`;tag=${toTag}$`));
    assert.equal(cseqOf(reinvite), cseqOf(invite) + 1);
    assert.equal(directionOf(reinvite), "sendonly");
    assert.equal(versionOf(reinvite), versionOf(invite) + 1, "a new o= version");
    assert.equal(/^m=audio (\d+)/m.exec(bodyOf(reinvite))?.[1], /^m=audio (\d+)/m.exec(bodyOf(invite))?.[1]);
    assert.match(header(ack, "CSeq"), new RegExp(`^${cseqOf(reinvite)} ACK$`));
    const held = await flowOver(1000);
    assert.ok(held.toSori < 5 && held.toPhone < 5, `nothing passes while held (${JSON.stringify(held)})`);
    assert.equal(call.state, "connected");
    assert.equal(call.remoteMedia.holdFailed, false);

    await call.setOnHold(false);
    const resumed = await answerReinvite("200 OK", "sendrecv");
    assert.equal(directionOf(resumed.reinvite), "sendrecv");
    assert.equal(versionOf(resumed.reinvite), versionOf(reinvite) + 1);
    assert.equal(cseqOf(resumed.reinvite), cseqOf(reinvite) + 1);
    const flowing = await flowOver(1000);
    assert.ok(
      flowing.toSori > 25 && flowing.toPhone > 25,
      `audio both ways again (${JSON.stringify(flowing)})`,
    );
    assert.match(logs.join(""), /"event":"sip-sori-held"/);
    assert.ok(!logs.join("").includes("m=audio"), "no SDP in the logs");
  });

  it("glare: the phone's re-INVITE crossing the gateway's gets 491; the gateway's 491'd one comes again after 2.1–4 s", async () => {
    await call.setOnHold(true);
    const first = await sip.next(startsWith("INVITE "), 8000);
    const crossing = phoneReinvite("sendrecv");
    sip.send(crossing, gateway.port);
    const answer = await sip.next(
      (m) => m.startsWith("SIP/2.0 ") && header(m, "CSeq") === `${phoneSeq} INVITE`,
      5000,
    );
    assert.match(answer, /^SIP\/2\.0 491/, "the phone's re-INVITE crossed the gateway's");
    sip.send(reply(first, "491 Request Pending"), gateway.port);
    const refusedAck = await sip.next((m) => m.startsWith("ACK ") && cseqOf(m) === cseqOf(first), 5000);
    assert.equal(
      /branch=([^;\s]+)/.exec(header(refusedAck, "Via"))?.[1],
      /branch=([^;\s]+)/.exec(header(first, "Via"))?.[1],
      "a failure's ACK is on the INVITE's branch",
    );
    const refusedAt = Date.now();
    const { reinvite: again } = await answerReinvite("200 OK");
    const waited = Date.now() - refusedAt;
    assert.ok(waited >= 2000 && waited <= 4800, `the gateway owns the Call-ID: 2.1–4 s (${waited} ms)`);
    assert.equal(cseqOf(again), cseqOf(first) + 1);
    assert.equal(directionOf(again), "sendonly");
    assert.equal(call.remoteMedia.holdFailed, false);
    await call.setOnHold(false);
    await answerReinvite("200 OK", "sendrecv");
  });

  it("a phone that refuses the hold: the call goes on, held at the gateway, and the caller is told; resume clears it", async () => {
    await call.setOnHold(true);
    const { reinvite } = await answerReinvite("488 Not Acceptable Here");
    await waitFor("the caller hears the hold failed", () => call.remoteMedia.holdFailed, 5000);
    assert.equal(call.state, "connected");
    const held = await flowOver(1000);
    assert.ok(
      held.toSori < 5 && held.toPhone < 5,
      `held on the gateway's side anyway (${JSON.stringify(held)})`,
    );
    assert.match(logs.join(""), /"event":"sip-sori-hold-failed"/);

    // The phone never took the hold: resuming asks it nothing.
    await call.setOnHold(false);
    await waitFor("the failure is over", () => !call.remoteMedia.holdFailed, 5000);
    const flowing = await flowOver(1000);
    assert.ok(flowing.toSori > 25 && flowing.toPhone > 25, `audio both ways (${JSON.stringify(flowing)})`);
    await assert.rejects(sip.next(startsWith("INVITE "), 500), /no such message/);
    // The session is as it was before the refused offer: the next one takes the version after it.
    await call.setOnHold(true);
    const next = await answerReinvite("200 OK");
    assert.equal(versionOf(next.reinvite), versionOf(reinvite));
    await call.setOnHold(false);
    await answerReinvite("200 OK", "sendrecv");
  });

  it("the phone's own re-INVITE while the Sori side holds is answered a=sendonly: the hold stays", async () => {
    await call.setOnHold(true);
    await answerReinvite("200 OK");
    const refresh = phoneReinvite("sendrecv");
    sip.send(refresh, gateway.port);
    const ok = await sip.next(
      (m) => m.startsWith("SIP/2.0 200") && header(m, "CSeq") === `${phoneSeq} INVITE`,
      5000,
    );
    assert.equal(directionOf(ok), "sendonly");
    assert.equal(call.remoteMedia.held, false, "the phone does not hold: the caller does");
    await call.setOnHold(false);
    const resumed = await answerReinvite("200 OK", "sendrecv");
    assert.equal(directionOf(resumed.reinvite), "sendrecv");
    const flowing = await flowOver(1000);
    assert.ok(flowing.toSori > 25 && flowing.toPhone > 25, `audio both ways (${JSON.stringify(flowing)})`);
    call.hangup();
    await sip.next(startsWith("BYE "), 5000);
  });
});
