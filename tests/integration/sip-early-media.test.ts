// A Sori user calls a phone number whose network plays audio before it answers (SIP 183 Session
// Progress with SDP: ringback, "the number you dialled…"). A raw SIP peer on loopback answers the
// gateway's INVITE as a trunk would and streams its tones itself; what the Sori caller hears is told
// apart by frequency, before and after the answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Call, SoriClient } from "@sori/sdk";
import { weriftPlatform } from "@sori/werift-calls";
import type { SipGateway } from "@sori/sip-gateway";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { RawSipSocket } from "../sip-raw.ts";
import { answerSdp, reply, sipHeader as header, ToneLeg, callOutGateway } from "../sip-callee.ts";
import { decodePcmu, toneShare } from "../tone-detect.ts";
import { sleep, waitFor, waitState } from "./call-helpers.ts";

const CALLER = "early_dave";
/** The announcement the network plays before answering, and the voice of whoever answers. */
const EARLY_HZ = 1000;
const ANSWER_HZ = 2000;
const CALLER_HZ = 440;
const startsWith = (prefix: string) => (m: string) => m.startsWith(prefix);

describe("SIP gateway: early media from the phone network reaches the Sori caller before the answer", () => {
  let t: TestServer;
  let gw: SoriClient;
  let dave: SoriClient;
  let gateway: SipGateway;
  let sip: RawSipSocket;
  let early: ToneLeg;
  let answered: ToneLeg;
  const heard: Buffer[] = [];
  const logs: string[] = [];

  /** Dials the raw peer and takes the gateway's INVITE and the RTP port its SDP offers. */
  const dial = async (): Promise<{ call: Call; invite: string; gatewayRtp: number }> => {
    const call = await dave.calls.start("early_gw", {
      via: { network: "sip", uri: `sip:ivr@127.0.0.1:${sip.port}` },
    });
    const invite = await sip.next(startsWith("INVITE "), 10_000);
    const gatewayRtp = Number(/^m=audio (\d+)/m.exec(invite)?.[1]);
    return { call, invite, gatewayRtp };
  };
  const share = (hz: number): number => toneShare(decodePcmu(heard.slice(-50)), 8000, hz);
  /** The next 50 packets the caller hears (a second), once those in flight have passed. */
  const listen = async (what: string): Promise<void> => {
    await sleep(200);
    heard.length = 0;
    await waitFor(what, () => heard.length >= 50, 10_000);
  };

  before(async () => {
    t = await startTestServer(["--gateways", "early_gw"]);
    gw = await newUser(t.url, "early_gw");
    dave = await newUser(t.url, CALLER);
    const { platform } = weriftPlatform({ loopback: true, toneHz: CALLER_HZ, onAudio: (p) => heard.push(p) });
    dave.calls.configure({ platform, ringTimeoutMs: 20_000, useServerTurn: false });
    gateway = await callOutGateway(gw, { rtpMin: 57_000, outbound: [CALLER], logs });
    sip = await RawSipSocket.open();
    early = await ToneLeg.open();
    answered = await ToneLeg.open();
  });
  after(async () => {
    early?.close();
    answered?.close();
    sip?.close();
    await gateway?.stop();
    await dave?.close();
    await gw?.close();
    await t?.stop();
  });

  it("183 with SDP: the caller hears the announcement while still unanswered; the 200 from elsewhere takes over", async () => {
    const { call, invite, gatewayRtp } = await dial();
    const states: string[] = [];
    call.on("state", (s) => states.push(s));
    sip.send(
      reply(invite, "183 Session Progress", { toTag: "fork1", body: answerSdp(early.port) }),
      gateway.port,
    );
    early.play(EARLY_HZ, gatewayRtp);
    await waitState(call, "early-media", 10_000);
    await listen("a second of early media");
    assert.equal(call.state, "early-media", "still unanswered while the announcement plays");
    assert.equal(call.connectedAt, null);
    assert.ok(
      share(EARLY_HZ) > 0.5,
      `the caller hears the ${EARLY_HZ} Hz announcement (${share(EARLY_HZ).toFixed(2)})`,
    );
    assert.equal(early.received, 0, "nothing of the caller goes to the phone network before it answers");

    // Answered from another fork with other media: the stale early source keeps sending, and must not be heard.
    const ok = reply(invite, "200 OK", { toTag: "fork2", body: answerSdp(answered.port), port: sip.port });
    sip.send(ok, gateway.port);
    answered.play(ANSWER_HZ, gatewayRtp);
    const ack = await sip.next(startsWith("ACK "), 5000);
    assert.match(header(ack, "To"), /tag=fork2/, "the 200's dialog is the one confirmed");
    await waitState(call, "connected", 10_000);
    await listen("a second after the answer");
    assert.ok(share(ANSWER_HZ) > 0.5, `the caller hears whoever answered (${share(ANSWER_HZ).toFixed(2)})`);
    assert.ok(share(EARLY_HZ) < 0.1, "and no longer the early source");
    await waitFor("the caller's audio reaches the answering end", () => answered.received >= 25, 10_000);
    assert.equal(early.received, 0, "nothing went to the early source");
    assert.ok(gateway.stats().rtpDropped > 0, "the early source's late packets were dropped");
    assert.deepEqual(states, ["early-media", "connecting", "connected"]);
    call.hangup();
    await sip.next(startsWith("BYE "), 5000);
    early.stop();
    answered.stop();
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
    assert.match(logs.join(""), /"event":"sip-call-out-early-media"/);
    assert.ok(!logs.join("").includes("m=audio"), "no SDP in the logs");
  });

  it("183 without SDP is plain ringing; a 486 after it is busy", async () => {
    const { call, invite } = await dial();
    sip.send(reply(invite, "183 Session Progress", { toTag: "p1" }), gateway.port);
    await sleep(800);
    assert.equal(call.state, "ringing-out", "no early media without SDP");
    sip.send(reply(invite, "486 Busy Here", { toTag: "p1" }), gateway.port);
    await sip.next(startsWith("ACK "), 5000);
    await waitState(call, "ended", 10_000);
    assert.equal(call.endReason, "busy");
  });

  for (const [status, reason] of [
    ["486 Busy Here", "busy"],
    ["603 Decline", "declined"],
    ["480 Temporarily Unavailable", "unreachable"],
  ] as const) {
    it(`183 with early media, then ${status}: the announcement stops and the caller's call ends ${reason}`, async () => {
      const { call, invite, gatewayRtp } = await dial();
      sip.send(
        reply(invite, "183 Session Progress", { toTag: "r1", body: answerSdp(early.port) }),
        gateway.port,
      );
      early.play(EARLY_HZ, gatewayRtp);
      await waitState(call, "early-media", 10_000);
      await listen("early media");
      sip.send(reply(invite, status, { toTag: "r1" }), gateway.port);
      await sip.next(startsWith("ACK "), 5000);
      await waitState(call, "ended", 10_000);
      assert.equal(call.endReason, reason);
      await sleep(300);
      const after = heard.length;
      await sleep(500);
      early.stop();
      assert.equal(heard.length, after, "nothing more is heard");
      await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
    });
  }

  it("183 with early media, then the caller gives up: the INVITE is CANCELled", async () => {
    const { call, invite, gatewayRtp } = await dial();
    sip.send(
      reply(invite, "183 Session Progress", { toTag: "c1", body: answerSdp(early.port) }),
      gateway.port,
    );
    early.play(EARLY_HZ, gatewayRtp);
    await waitState(call, "early-media", 10_000);
    await listen("early media");
    call.hangup();
    assert.equal(call.endReason, "cancelled");
    const cancel = await sip.next(startsWith("CANCEL "), 5000);
    assert.equal(header(cancel, "CSeq").split(" ")[0], header(invite, "CSeq").split(" ")[0]);
    sip.send(reply(cancel, "200 OK", { toTag: "c1" }), gateway.port);
    sip.send(reply(invite, "487 Request Terminated", { toTag: "c1" }), gateway.port);
    await sip.next(startsWith("ACK "), 5000);
    early.stop();
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
  });

  it("a 200 with another codec than the early media's ends the call cleanly (the relay does not transcode)", async () => {
    const { call, invite, gatewayRtp } = await dial();
    sip.send(
      reply(invite, "183 Session Progress", { toTag: "k1", body: answerSdp(early.port) }),
      gateway.port,
    );
    early.play(EARLY_HZ, gatewayRtp);
    await waitState(call, "early-media", 10_000);
    sip.send(
      reply(invite, "200 OK", {
        toTag: "k1",
        body: answerSdp(answered.port, { payload: 8 }),
        port: sip.port,
      }),
      gateway.port,
    );
    await sip.next(startsWith("ACK "), 5000);
    await sip.next(startsWith("BYE "), 5000);
    await waitState(call, "ended", 10_000);
    assert.equal(call.endReason, "unreachable");
    early.stop();
    assert.match(logs.join(""), /"event":"sip-call-out-codec-changed"/);
  });
});
