// A phone (raw SIP and RTP on loopback) in a call with a Sori user changes the session mid-call:
// hold and resume, a session refresh, a new RTP port, a codec the call cannot take, a re-INVITE
// without SDP, one that crosses a pending offer, a transfer. Each is answered as RFC 3261/3264 say,
// and what reaches each side (RTP packets, the Sori call's hold state) is checked.
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { after, before, describe, it } from "node:test";
import type { Call, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { RawSipSocket, sipRequest } from "../sip-raw.ts";
import { nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";

const USER = "reinv_ann";
const FROM = '"Desk" <sip:desk@127.0.0.1>';
const FROM_TAG = "deskphone1";

/** The phone's SDP: PCMU (0) and telephone-event (101) unless `payloads` says otherwise. */
function sdp(o: { port: number; version: number; direction?: string; payloads?: string }): string {
  const payloads = o.payloads ?? "0 101";
  return [
    "v=0",
    `o=desk 77 ${o.version} IN IP4 127.0.0.1`,
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${o.port} RTP/AVP ${payloads}`,
    ...(payloads.includes("101") ? ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"] : []),
    `a=${o.direction ?? "sendrecv"}`,
    "",
  ].join("\r\n");
}

const cseqOf = (text: string): string => /^CSeq: (.*)$/m.exec(text)?.[1] ?? "";
const statusOf = (text: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): string => text.slice(text.indexOf("\r\n\r\n") + 4);

describe("SIP gateway: re-INVITEs from a phone in a call (raw SIP)", () => {
  let t: TestServer;
  let gw: SoriClient;
  let ann: SoriClient;
  let gateway: SipGateway;
  let sip: RawSipSocket;
  let rtpA: Socket;
  let rtpB: Socket;
  let call: Call;
  let toTag = "";
  let cseq = 1;
  let gatewayRtp = 0;
  /** What the Sori user's device decodes from the phone, and what each phone port gets back. */
  const heard = { sori: 0, a: 0, b: 0 };
  /** The socket the phone sends its RTP from (undefined: silent). */
  let sendingFrom: Socket | undefined;
  let rtpTimer: ReturnType<typeof setInterval> | undefined;
  const callId = `reinvite-${Date.now()}@127.0.0.1`;

  /** A request in the phone's dialog (its From tag, the gateway's To tag), with the next CSeq unless given. */
  const inDialog = (method: string, o: { body?: string; seq?: number; branch?: string } = {}): string =>
    sipRequest({
      method,
      uri: `sip:${USER}@127.0.0.1:${gateway.port}`,
      from: FROM,
      fromTag: FROM_TAG,
      to: `<sip:${USER}@127.0.0.1>;tag=${toTag}`,
      callId,
      cseq: o.seq ?? ++cseq,
      headers: [["Contact", `<sip:desk@127.0.0.1:${sip.port}>`]],
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.branch ? { branch: o.branch } : {}),
    });
  /** Sends a request and waits for its final answer (matched by CSeq). */
  const final = async (request: string): Promise<string> => {
    sip.send(request, gateway.port);
    const seq = cseqOf(request);
    return sip.next((m) => m.startsWith("SIP/2.0 ") && statusOf(m) >= 200 && cseqOf(m) === seq);
  };
  /** ACK for a 2xx (its own transaction), with the answer to an offer the 200 carried if given. */
  const ack2xx = (seq: number, body?: string): void =>
    sip.send(
      inDialog("ACK", { seq, ...(body !== undefined ? { body } : {}) }).replace(
        /CSeq: \d+ ACK/,
        `CSeq: ${seq} ACK`,
      ),
      gateway.port,
    );
  /** ACK for a failure goes on the INVITE's branch. */
  const ackFailure = (invite: string): void => {
    const branch = /branch=([^;\r\n]+)/.exec(invite)?.[1] ?? "";
    const seq = Number(/^CSeq: (\d+)/m.exec(invite)?.[1]);
    sip.send(inDialog("ACK", { seq, branch }), gateway.port);
  };
  /** Packets counted over `ms`, after in-flight ones settle. */
  const countOver = async (ms: number, which: keyof typeof heard): Promise<number> => {
    await sleep(150);
    const before = heard[which];
    await sleep(ms);
    return heard[which] - before;
  };

  before(async () => {
    t = await startTestServer(["--gateways", "reinv_gw"]);
    gw = await newUser(t.url, "reinv_gw");
    ann = await newUser(t.url, USER);
    const { platform } = weriftPlatform({ loopback: true, onAudio: () => heard.sori++ });
    ann.calls.configure({ platform, ringTimeoutMs: 10_000, useServerTurn: false });
    gateway = await startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 55_000, max: 55_998 },
      loopback: true,
      // Short, so a held call that outlives it shows the timeout is suspended while the phone is silent by right.
      rtpTimeoutMs: 3000,
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });
    sip = await RawSipSocket.open();
    rtpA = createSocket("udp4");
    rtpB = createSocket("udp4");
    await new Promise<void>((r) => rtpA.bind(0, "127.0.0.1", r));
    await new Promise<void>((r) => rtpB.bind(0, "127.0.0.1", r));
    rtpA.on("message", () => heard.a++);
    rtpB.on("message", () => heard.b++);
    // The phone's microphone: a PCMU frame every 20 ms from whichever port it uses now.
    let seq = 1000;
    let ts = 50_000;
    const frame = Buffer.alloc(12 + 160, 0xff);
    rtpTimer = setInterval(() => {
      seq = (seq + 1) & 0xffff;
      ts = (ts + 160) >>> 0;
      if (!sendingFrom) return;
      const packet = Buffer.from(frame);
      packet[0] = 0x80;
      packet[1] = 0;
      packet.writeUInt16BE(seq, 2);
      packet.writeUInt32BE(ts, 4);
      packet.writeUInt32BE(0x1234abcd, 8);
      sendingFrom.send(packet, gatewayRtp, "127.0.0.1");
    }, 20);
  });
  after(async () => {
    clearInterval(rtpTimer);
    call?.hangup();
    await gateway?.stop();
    sip?.close();
    rtpA?.close();
    rtpB?.close();
    await ann?.close();
    await gw?.close();
    await t?.stop();
  });

  it("the call: the phone's INVITE is answered once the user accepts, audio both ways", async () => {
    const ringing = nextIncoming(ann, 15_000);
    const invite = sipRequest({
      method: "INVITE",
      uri: `sip:${USER}@127.0.0.1:${gateway.port}`,
      from: FROM,
      fromTag: FROM_TAG,
      to: `<sip:${USER}@127.0.0.1>`,
      callId,
      cseq: 1,
      headers: [["Contact", `<sip:desk@127.0.0.1:${sip.port}>`]],
      body: sdp({ port: rtpA.address().port, version: 1 }),
    });
    sip.send(invite, gateway.port);
    call = await ringing;
    await call.accept();
    const ok = await sip.next((m) => statusOf(m) === 200 && cseqOf(m) === "1 INVITE", 15_000);
    toTag = /^To: .*;tag=([^;\r\n]+)/m.exec(ok)?.[1] ?? "";
    gatewayRtp = Number(/^m=audio (\d+)/m.exec(bodyOf(ok))?.[1]);
    assert.match(bodyOf(ok), /^o=sori \d+ 1 IN IP4/m);
    assert.match(bodyOf(ok), /^a=sendrecv/m);
    ack2xx(1);
    sendingFrom = rtpA;
    await waitState(call, "connected", 15_000);
    await waitFor("audio both ways", () => heard.sori > 20 && heard.a > 20, 10_000);
  });

  it("hold (sendonly, then inactive) and resume: the answers mirror the phone, the user sees it held, no audio flows while held", async () => {
    const held = await final(
      inDialog("INVITE", { body: sdp({ port: rtpA.address().port, version: 2, direction: "sendonly" }) }),
    );
    assert.equal(statusOf(held), 200);
    assert.match(bodyOf(held), /^a=recvonly/m);
    assert.match(bodyOf(held), /^o=sori \d+ 2 IN IP4/m, "our SDP changed: its version goes up");
    ack2xx(cseq);
    await waitFor("the user's call shows the hold", () => call.remoteMedia.held, 5000);
    // The phone goes on sending (music on hold): the gateway sends it nothing and passes none on.
    assert.equal(await countOver(500, "a"), 0, "nothing sent to a phone that holds");
    assert.equal(await countOver(300, "sori"), 0, "nothing passed to the user while held");

    const inactive = await final(
      inDialog("INVITE", { body: sdp({ port: rtpA.address().port, version: 3, direction: "inactive" }) }),
    );
    assert.match(bodyOf(inactive), /^a=inactive/m);
    assert.match(bodyOf(inactive), /^o=sori \d+ 3 IN IP4/m);
    ack2xx(cseq);
    // Silent longer than the RTP timeout (3 s): a phone that said it sends nothing is not gone.
    sendingFrom = undefined;
    await sleep(4500);
    assert.equal(call.state, "connected");
    assert.equal(gateway.stats().callsActive, 1);

    const resumed = await final(inDialog("INVITE", { body: sdp({ port: rtpA.address().port, version: 4 }) }));
    assert.match(bodyOf(resumed), /^a=sendrecv/m);
    assert.match(bodyOf(resumed), /^o=sori \d+ 4 IN IP4/m);
    ack2xx(cseq);
    sendingFrom = rtpA;
    await waitFor("the hold is off on the user's side", () => !call.remoteMedia.held, 5000);
    assert.ok((await countOver(500, "a")) > 10, "the phone hears the user again");
    assert.ok((await countOver(500, "sori")) > 10, "the user hears the phone again");

    // A session refresh (the same offer again): exactly the same answer, o= version unchanged.
    const refresh = await final(inDialog("INVITE", { body: sdp({ port: rtpA.address().port, version: 4 }) }));
    assert.equal(bodyOf(refresh), bodyOf(resumed));
    ack2xx(cseq);
  });

  it("a new RTP port: the gateway sends there; packets from the old port are dropped and counted, the new one's pass", async () => {
    const moved = await final(inDialog("INVITE", { body: sdp({ port: rtpB.address().port, version: 5 }) }));
    assert.equal(statusOf(moved), 200);
    assert.match(bodyOf(moved), /^o=sori \d+ 4 IN IP4/m, "the gateway's own description did not change");
    ack2xx(cseq);
    // The phone still sends from the old port for a moment: none of it may take the leg.
    const droppedBefore = gateway.stats().rtpDropped;
    const soriBefore = heard.sori;
    await sleep(600);
    assert.ok(
      gateway.stats().rtpDropped - droppedBefore >= 20,
      "the old port's packets are dropped and counted",
    );
    assert.ok(heard.sori - soriBefore <= 3, "and none reach the user (a few may have been in flight)");
    assert.ok((await countOver(400, "b")) > 10, "the gateway sends to the new port");
    assert.equal(await countOver(300, "a"), 0, "and no longer to the old one");
    sendingFrom = rtpB;
    assert.ok((await countOver(500, "sori")) > 10, "the new port's audio reaches the user");
  });

  it("a codec the call cannot carry is 488 with the reason, a late CSeq 500; the call goes on as it was", async () => {
    const invite = inDialog("INVITE", {
      body: sdp({ port: rtpB.address().port, version: 6, payloads: "8" }),
    });
    const refused = await final(invite);
    assert.equal(statusOf(refused), 488);
    assert.match(
      refused,
      /^Warning: 305 sori "the call carries PCMU\/8000 and cannot change codec; offered PCMA\/8000"/m,
    );
    ackFailure(invite);
    const late = inDialog("INVITE", { seq: cseq - 1, body: sdp({ port: rtpA.address().port, version: 7 }) });
    const outOfOrder = await final(late);
    assert.equal(statusOf(outOfOrder), 500);
    ackFailure(late);
    assert.ok((await countOver(400, "b")) > 10, "media goes on where it was");
    assert.ok((await countOver(400, "sori")) > 10);
  });

  it("a re-INVITE without SDP gets the gateway's offer; one that crosses it is 491; the ACK's answer is applied", async () => {
    const offered = await final(inDialog("INVITE"));
    const offerSeq = cseq;
    assert.equal(statusOf(offered), 200);
    const offer = bodyOf(offered);
    assert.match(offer, /^m=audio \d+ RTP\/AVP 0 101/m);
    assert.match(offer, /^a=sendrecv/m);
    // Before the ACK: another offer would cross the gateway's.
    const crossing = inDialog("INVITE", {
      body: sdp({ port: rtpB.address().port, version: 8, direction: "sendonly" }),
    });
    assert.equal(statusOf(await final(crossing)), 491);
    ackFailure(crossing);
    // The answer, in the ACK: the phone holds.
    ack2xx(offerSeq, sdp({ port: rtpB.address().port, version: 8, direction: "sendonly" }));
    await waitFor("the ACK's hold reaches the user", () => call.remoteMedia.held, 5000);
    assert.equal(await countOver(400, "b"), 0);
    // And the next re-INVITE is taken again (the offer/answer round is over).
    const resumed = await final(inDialog("INVITE", { body: sdp({ port: rtpB.address().port, version: 9 }) }));
    assert.equal(statusOf(resumed), 200);
    ack2xx(cseq);
    await waitFor("resumed", () => !call.remoteMedia.held, 5000);
  });

  it("a transfer (REFER) is refused with the reason and the call stays; BYE ends it", async () => {
    const refer = await final(
      inDialog("REFER").replace("Content-Length:", `Refer-To: <sip:someone@127.0.0.1>\r\nContent-Length:`),
    );
    assert.equal(statusOf(refer), 403);
    assert.match(refer, /^Warning: 399 sori "call transfer is not supported by this gateway"/m);
    assert.ok((await countOver(400, "sori")) > 10, "the call goes on");
    const bye = await final(inDialog("BYE"));
    assert.equal(statusOf(bye), 200);
    sendingFrom = undefined;
    await waitState(call, "ended", 10_000);
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
  });
  it("a re-INVITE before the phone's own INVITE is answered is 500 with Retry-After (RFC 3261 §14.2)", async () => {
    const ringing = nextIncoming(ann, 15_000);
    const early = `early-${Date.now()}@127.0.0.1`;
    let tag = "";
    /** A request of this second call (its early dialog once the 180 gave the gateway's tag). */
    const request = (method: string, cseq: number, o: { body?: string; branch?: string } = {}): string =>
      sipRequest({
        method,
        uri: `sip:${USER}@127.0.0.1:${gateway.port}`,
        from: FROM,
        fromTag: FROM_TAG,
        to: `<sip:${USER}@127.0.0.1>${tag ? `;tag=${tag}` : ""}`,
        callId: early,
        cseq,
        headers: [["Contact", `<sip:desk@127.0.0.1:${sip.port}>`]],
        ...o,
      });
    const invite = request("INVITE", 1, { body: sdp({ port: rtpA.address().port, version: 1 }) });
    const branch = /branch=([^;\r\n]+)/.exec(invite)?.[1] ?? "";
    sip.send(invite, gateway.port);
    const rung = await ringing;
    const ringingAnswer = await sip.next((m) => statusOf(m) === 180 && m.includes(early));
    tag = /^To: .*;tag=([^;\r\n]+)/m.exec(ringingAnswer)?.[1] ?? "";
    const again = request("INVITE", 2, {
      body: sdp({ port: rtpA.address().port, version: 2, direction: "sendonly" }),
    });
    const refused = await final(again);
    assert.equal(statusOf(refused), 500);
    assert.match(refused, /^Retry-After: ([0-9]|10)$/m);
    sip.send(request("ACK", 2, { branch: /branch=([^;\r\n]+)/.exec(again)?.[1] ?? "" }), gateway.port);
    // The phone gives up: CANCEL on the INVITE's branch (without the tag, as the INVITE had none).
    tag = "";
    sip.send(request("CANCEL", 1, { branch }), gateway.port);
    const cancelled = await sip.next((m) => statusOf(m) === 487 && m.includes(early));
    tag = /^To: .*;tag=([^;\r\n]+)/m.exec(cancelled)?.[1] ?? "";
    sip.send(request("ACK", 1, { branch }), gateway.port);
    await waitState(rung, "ended", 10_000);
    assert.equal(rung.endReason, "missed");
  });
});
