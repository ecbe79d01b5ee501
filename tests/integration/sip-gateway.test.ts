import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Call, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, type SipGatewayOptions, startSipGateway } from "@sori/sip-gateway";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { rawExchange } from "../sip-raw.ts";
import { decodePcmu, readWav, toneShare } from "../tone-detect.ts";
import { nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";

/** A gateway on a free UDP port for `client`, media ports from `rtpMin`, loopback ICE. */
function gatewayFor(
  client: SoriClient,
  rtpMin: number,
  extra: Partial<SipGatewayOptions>,
): Promise<SipGateway> {
  return startSipGateway({
    client,
    listen: { address: "127.0.0.1", port: 0 },
    mediaAddress: "127.0.0.1",
    rtpPorts: { min: rtpMin, max: rtpMin + 998 },
    loopback: true,
    log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    ...extra,
  });
}

const USER_TONE_HZ = 440;
const PHONE_TONE_HZ = 1000;
/** Ports of this file's phones: far from the gateway's media range and from other suites. */
const PHONE_BASE = 23_000 + (process.pid % 500) * 8;

describe("SIP gateway: a phone calls a Sori user (baresip on loopback)", () => {
  let t: TestServer;
  let gw: SoriClient;
  let alice: SoriClient;
  let gateway: SipGateway;
  let phone: SipPhone;
  const heard: Buffer[] = [];

  before(async () => {
    t = await startTestServer(["--gateways", "phone_gw"]);
    gw = await newUser(t.url, "phone_gw");
    alice = await newUser(t.url, "sip_alice");
    const { platform } = weriftPlatform({
      loopback: true,
      toneHz: USER_TONE_HZ,
      onAudio: (p) => heard.push(p),
    });
    alice.calls.configure({ platform, ringTimeoutMs: 10_000, useServerTurn: false });
    gateway = await gatewayFor(gw, 41_000, { ringTimeoutMs: 6000 });
    phone = await SipPhone.start({ sipPort: PHONE_BASE, controlPort: PHONE_BASE + 2, toneHz: PHONE_TONE_HZ });
  });
  beforeEach(() => phone.clearEvents());
  after(async () => {
    await phone?.stop();
    await gateway?.stop();
    await alice?.close();
    await gw?.close();
    await t?.stop();
  });

  it("rings the user with the caller's SIP identity; answered, each side hears the other's tone; the user hangs up and the phone gets BYE", async () => {
    const ringing = nextIncoming(alice, 15_000);
    phone.dial(`sip:sip_alice@127.0.0.1:${gateway.port}`);
    const call = await ringing;
    assert.equal(call.peer.username, "phone_gw");
    assert.deepEqual(call.via, { network: "sip", uri: "sip:phone@127.0.0.1" });
    await phone.waitEvent("CALL_RINGING");
    heard.length = 0;
    await call.accept();
    await phone.waitEvent("CALL_ESTABLISHED");
    await waitState(call, "connected");
    await waitFor("a second of the phone's audio", () => heard.length >= 60, 10_000);
    // Skip the first packets (jitter while the path settles), then listen.
    const samples = decodePcmu(heard.slice(10, 60));
    const phoneTone = toneShare(samples, 8000, PHONE_TONE_HZ);
    assert.ok(
      phoneTone > 0.5,
      `the user hears the phone's ${PHONE_TONE_HZ} Hz (share ${phoneTone.toFixed(2)})`,
    );
    assert.ok(toneShare(samples, 8000, USER_TONE_HZ) < 0.1, "and not its own tone");
    await sleep(1000);
    call.hangup();
    const closed = await phone.waitEvent("CALL_CLOSED");
    // baresip reports a BYE from the other side as ECONNRESET.
    assert.match(closed.param ?? "", /connection reset by peer/i);
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
    const wav = phone.decodedWav();
    assert.ok(wav, "the phone saved what it heard");
    const { sampleRate, samples: phoneHeard } = readWav(wav);
    const middle = phoneHeard.subarray(Math.floor(sampleRate * 0.5), Math.floor(sampleRate * 1.5));
    const userTone = toneShare(middle, sampleRate, USER_TONE_HZ);
    assert.ok(userTone > 0.5, `the phone hears the user's ${USER_TONE_HZ} Hz (share ${userTone.toFixed(2)})`);
  });

  it("the phone's keypad (RFC 4733): each key reaches the user's call as a dtmf event, in order, none as audio", async () => {
    const ringing = nextIncoming(alice, 15_000);
    phone.dial(`sip:sip_alice@127.0.0.1:${gateway.port}`);
    const call = await ringing;
    const keys: string[] = [];
    call.on("dtmf", (k) => keys.push(k));
    await call.accept();
    await phone.waitEvent("CALL_ESTABLISHED");
    await waitState(call, "connected");
    await waitFor("the phone's audio", () => heard.length >= 10, 10_000);
    heard.length = 0;
    // baresip sends each key as one event (start, updates every 20 ms, the end three times).
    phone.command("sndcode", "159*#0");
    await waitFor("six keys", () => keys.length >= 6, 10_000);
    // Repeats of an end packet arriving late must not become keys.
    await sleep(500);
    assert.deepEqual(keys, ["1", "5", "9", "*", "#", "0"]);
    assert.ok(heard.length > 50, "audio went on beside the keys");
    assert.ok(
      heard.every((p) => p.length === 160),
      "every audio payload is a PCMU frame: no telephone-event was played as sound",
    );
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
  });

  it("the phone holds and resumes (re-INVITE): the user's call shows it, and the phone's audio stops while held", async () => {
    const ringing = nextIncoming(alice, 15_000);
    phone.dial(`sip:sip_alice@127.0.0.1:${gateway.port}`);
    const call = await ringing;
    const holds: boolean[] = [];
    call.on("remote-media", (m) => holds.push(m.held));
    await call.accept();
    await phone.waitEvent("CALL_ESTABLISHED");
    await waitState(call, "connected");
    await waitFor("the phone's audio", () => heard.length >= 10, 10_000);
    phone.command("hold");
    await waitFor("the user's call is held", () => call.remoteMedia.held, 10_000);
    await sleep(200);
    const whileHeld = heard.length;
    await sleep(500);
    assert.equal(heard.length, whileHeld, "nothing from a phone that holds the call");
    phone.command("resume");
    await waitFor("the hold is off", () => !call.remoteMedia.held, 10_000);
    await waitFor("the phone's audio again", () => heard.length > whileHeld + 10, 10_000);
    // The media states the gateway sent, as changes from "not held": one hold, one resume.
    assert.deepEqual(
      holds.filter((h, i) => h !== (holds[i - 1] ?? false)),
      [true, false],
    );
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
  });

  it("a declined call is 603 at the phone; an unanswered one 480", async () => {
    const ringing = nextIncoming(alice, 15_000);
    phone.dial(`sip:sip_alice@127.0.0.1:${gateway.port}`);
    const call: Call = await ringing;
    call.decline();
    const closed = await phone.waitEvent("CALL_CLOSED");
    assert.match(closed.param ?? "", /603/);
    const again = nextIncoming(alice, 15_000);
    phone.dial(`sip:sip_alice@127.0.0.1:${gateway.port}`);
    const unanswered = await again;
    const noAnswer = await phone.waitEvent("CALL_CLOSED", 15_000);
    assert.match(noAnswer.param ?? "", /480/);
    await waitState(unanswered, "ended");
  });

  it("the phone hanging up while it rings (CANCEL) stops the ringing on the user's device", async () => {
    const ringing = nextIncoming(alice, 15_000);
    phone.dial(`sip:sip_alice@127.0.0.1:${gateway.port}`);
    const call = await ringing;
    await phone.waitEvent("CALL_RINGING");
    phone.hangup();
    await waitState(call, "ended");
    assert.equal(call.endReason, "missed");
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
  });

  it("an unknown user is 404; a phone with no codec in common is 488, with the reason", async () => {
    phone.dial(`sip:nobody_here@127.0.0.1:${gateway.port}`);
    const unknown = await phone.waitEvent("CALL_CLOSED");
    assert.match(unknown.param ?? "", /404/);
    const answers = await rawExchange(gateway.port, [
      invite("sip_alice", "m=audio 4000 RTP/AVP 3\r\na=rtpmap:3 GSM/8000\r\n"),
    ]);
    assert.match(
      answers.join("\n"),
      /SIP\/2.0 488[^\n]*\n[\s\S]*Warning: 305 sori "no codec to relay: offered GSM\/8000/,
    );
  });

  it("malformed requests get 400 with the reason, and the gateway goes on answering", async () => {
    const answers = await rawExchange(gateway.port, [
      "INVITE sip:sip_alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbad1\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:sip_alice@127.0.0.1>\r\nCall-ID: bad1\r\nCSeq: one INVITE\r\nContent-Length: 0\r\n\r\n",
      "OPTIONS sip:sip_alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKok1\r\nMax-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:sip_alice@127.0.0.1>\r\nCall-ID: ok1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    ]);
    assert.match(answers[0] ?? "", /^SIP\/2.0 400 Bad Request[\s\S]*Warning: 399 sori "malformed CSeq"/);
    // An extension the request requires and the gateway lacks: 420 naming it.
    const [required] = await rawExchange(gateway.port, [
      invite("sip_alice", "m=audio 4000 RTP/AVP 0\r\n").replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRequire: 100rel, precondition\r\n",
      ),
    ]);
    assert.match(required ?? "", /^SIP\/2.0 420 [\s\S]*Unsupported: 100rel, precondition/);
    assert.match(answers[1] ?? "", /^SIP\/2.0 200 OK[\s\S]*Allow: INVITE/);
    assert.ok(gateway.stats().parseErrors >= 1);
  });
});

describe("SIP gateway: a phone that vanishes mid-call", () => {
  let t: TestServer;
  let gw: SoriClient;
  let bob: SoriClient;
  let gateway: SipGateway;
  let phone: SipPhone | undefined;

  before(async () => {
    t = await startTestServer(["--gateways", "phone_gw2"]);
    gw = await newUser(t.url, "phone_gw2");
    bob = await newUser(t.url, "sip_bob");
    bob.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    gateway = await gatewayFor(gw, 43_000, { rtpTimeoutMs: 2000 });
  });
  after(async () => {
    await phone?.stop();
    await gateway?.stop();
    await bob?.close();
    await gw?.close();
    await t?.stop();
  });

  it("ends the Sori side once no RTP has come for the timeout, and takes new calls after", async () => {
    phone = await SipPhone.start({
      sipPort: PHONE_BASE + 4,
      controlPort: PHONE_BASE + 6,
      toneHz: PHONE_TONE_HZ,
    });
    const ringing = nextIncoming(bob, 15_000);
    phone.dial(`sip:sip_bob@127.0.0.1:${gateway.port}`);
    const call = await ringing;
    await call.accept();
    await waitState(call, "connected");
    await sleep(500);
    phone.vanish();
    const vanishedAt = Date.now();
    await waitState(call, "ended", 10_000);
    assert.equal(call.endReason, "remote-hangup");
    assert.ok(Date.now() - vanishedAt < 6000, "ended within the RTP timeout and one check");
    assert.equal(gateway.stats().callsActive, 0);
    await phone.stop();
    phone = await SipPhone.start({
      sipPort: PHONE_BASE + 4,
      controlPort: PHONE_BASE + 6,
      toneHz: PHONE_TONE_HZ,
    });
    const again = nextIncoming(bob, 15_000);
    phone.dial(`sip:sip_bob@127.0.0.1:${gateway.port}`);
    (await again).decline();
    assert.match((await phone.waitEvent("CALL_CLOSED")).param ?? "", /603/);
  });
});

describe("SIP gateway: a Sori user calls a phone (baresip on loopback)", () => {
  let t: TestServer;
  let gw: SoriClient;
  let dave: SoriClient;
  let eve: SoriClient;
  let gateway: SipGateway;
  let phone: SipPhone;
  const heard: Buffer[] = [];
  const phoneUri = `sip:carol@127.0.0.1:${PHONE_BASE + 8}`;

  before(async () => {
    t = await startTestServer(["--gateways", "phone_gw3"]);
    gw = await newUser(t.url, "phone_gw3");
    dave = await newUser(t.url, "sip_dave");
    eve = await newUser(t.url, "sip_eve");
    const { platform } = weriftPlatform({
      loopback: true,
      toneHz: USER_TONE_HZ,
      onAudio: (p) => heard.push(p),
    });
    dave.calls.configure({ platform, ringTimeoutMs: 10_000, useServerTurn: false });
    eve.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    gateway = await gatewayFor(gw, 44_000, { outbound: ["sip_dave"] });
    phone = await SipPhone.start({
      sipPort: PHONE_BASE + 8,
      controlPort: PHONE_BASE + 10,
      toneHz: PHONE_TONE_HZ,
      user: "carol",
      autoAnswer: true,
    });
  });
  beforeEach(() => phone.clearEvents());
  after(async () => {
    await phone?.stop();
    await gateway?.stop();
    await dave?.close();
    await eve?.close();
    await gw?.close();
    await t?.stop();
  });

  it("the phone answers; each side hears the other's tone; the Sori user hangs up and the phone gets BYE", async () => {
    const call = await dave.calls.start("phone_gw3", { via: { network: "sip", uri: phoneUri } });
    assert.deepEqual(call.via, { network: "sip", uri: phoneUri });
    await waitState(call, "connected", 15_000);
    heard.length = 0;
    await waitFor("a second of the phone's audio", () => heard.length >= 60, 10_000);
    const samples = decodePcmu(heard.slice(10, 60));
    const phoneTone = toneShare(samples, 8000, PHONE_TONE_HZ);
    assert.ok(
      phoneTone > 0.5,
      `the caller hears the phone's ${PHONE_TONE_HZ} Hz (share ${phoneTone.toFixed(2)})`,
    );
    await sleep(1000);
    call.hangup();
    const closed = await phone.waitEvent("CALL_CLOSED");
    assert.match(closed.param ?? "", /connection reset by peer/i);
    // The event the next test relies on not seeing: an INVITE's offer reached the phone.
    assert.ok(phone.events.some((e) => e.type === "CALL_REMOTE_SDP" && e.param === "offer"));
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
    const wav = phone.decodedWav();
    assert.ok(wav, "the phone saved what it heard");
    const { sampleRate, samples: phoneHeard } = readWav(wav);
    const middle = phoneHeard.subarray(Math.floor(sampleRate * 0.5), Math.floor(sampleRate * 1.5));
    const userTone = toneShare(middle, sampleRate, USER_TONE_HZ);
    assert.ok(
      userTone > 0.5,
      `the phone hears the caller's ${USER_TONE_HZ} Hz (share ${userTone.toFixed(2)})`,
    );
  });

  it("the phone called holds and resumes, and presses keys: the caller's call shows each", async () => {
    const call = await dave.calls.start("phone_gw3", { via: { network: "sip", uri: phoneUri } });
    const keys: string[] = [];
    call.on("dtmf", (k) => keys.push(k));
    await waitState(call, "connected", 15_000);
    heard.length = 0;
    await waitFor("the phone's audio", () => heard.length >= 10, 10_000);
    phone.command("hold");
    await waitFor("the caller's call is held", () => call.remoteMedia.held, 10_000);
    phone.command("resume");
    await waitFor("the hold is off", () => !call.remoteMedia.held, 10_000);
    phone.command("sndcode", "3#");
    await waitFor("two keys", () => keys.length >= 2, 10_000);
    assert.deepEqual(keys, ["3", "#"]);
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    await waitFor("the gateway forgets the call", () => gateway.stats().callsActive === 0);
  });

  it("only accounts the operator allows may call out: anyone else is declined and the phone never rings", async () => {
    const before = gateway.stats().callsTotal;
    const call = await eve.calls.start("phone_gw3", { via: { network: "sip", uri: phoneUri } });
    await waitState(call, "ended", 10_000);
    assert.equal(call.endReason, "declined");
    await sleep(300);
    assert.equal(gateway.stats().callsTotal, before, "no call was placed");
    assert.deepEqual(
      phone.events.filter((e) => e.type === "CALL_REMOTE_SDP"),
      [],
    );
  });

  it("a phone that answers 486 is busy for the caller, one that does not exist (404) unreachable", async () => {
    const refuser = await sipResponder([486, 404]);
    try {
      const busy = await dave.calls.start("phone_gw3", {
        via: { network: "sip", uri: `sip:busy@127.0.0.1:${refuser.port}` },
      });
      await waitState(busy, "ended", 10_000);
      assert.equal(busy.endReason, "busy");
      const missing = await dave.calls.start("phone_gw3", {
        via: { network: "sip", uri: `sip:nobody@127.0.0.1:${refuser.port}` },
      });
      await waitState(missing, "ended", 10_000);
      assert.equal(missing.endReason, "unreachable");
      assert.equal(refuser.acks, 2, "each failure was acknowledged");
    } finally {
      refuser.close();
    }
  });
});

/** A SIP endpoint that answers each INVITE with the next status of `statuses` and counts ACKs. */
async function sipResponder(statuses: number[]): Promise<{ port: number; acks: number; close(): void }> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const state = { acks: 0 };
  let next = 0;
  const answered = new Map<string, string>();
  socket.on("message", (data, rinfo) => {
    const text = data.toString();
    if (text.startsWith("ACK ")) {
      state.acks++;
      return;
    }
    if (!text.startsWith("INVITE ")) return;
    const header = (name: string): string => new RegExp(`^${name}: (.*)$`, "mi").exec(text)?.[1] ?? "";
    const branch = /branch=([^;\s]+)/.exec(header("Via"))?.[1] ?? "";
    // A retransmitted INVITE gets the same answer.
    let reply = answered.get(branch);
    if (!reply) {
      const status = statuses[next++] ?? 500;
      reply =
        `SIP/2.0 ${status} Refused\r\nVia: ${header("Via")}\r\nFrom: ${header("From")}\r\n` +
        `To: ${header("To")};tag=r${status}\r\nCall-ID: ${header("Call-ID")}\r\nCSeq: ${header("CSeq")}\r\nContent-Length: 0\r\n\r\n`;
      answered.set(branch, reply);
    }
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return {
    port: socket.address().port,
    get acks() {
      return state.acks;
    },
    close: () => socket.close(),
  };
}

function invite(user: string, media: string): string {
  const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${media}`;
  return (
    `INVITE sip:${user}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK${Date.now()}\r\n` +
    `Max-Forwards: 70\r\nFrom: "Raw" <sip:raw@127.0.0.1>;tag=r1\r\nTo: <sip:${user}@127.0.0.1>\r\n` +
    `Call-ID: raw-${Date.now()}\r\nCSeq: 1 INVITE\r\nContact: <sip:raw@127.0.0.1:5999>\r\n` +
    `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`
  );
}
