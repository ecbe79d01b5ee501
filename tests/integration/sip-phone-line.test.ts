import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { PhoneLineSettings, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { directChatSeenBy, newUser, startTestServer, type TestServer } from "../helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { challenges, digestCredentials, rawExchange, sipRequest } from "../sip-raw.ts";
import { decodePcmu, readWav, toneShare } from "../tone-detect.ts";
import { nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";
import { portBase } from "../port-base.ts";

const BOB_TONE_HZ = 440;
const PHONE_TONE_HZ = 1000;
/** Ports of this file's phone: apart from the other SIP suites' ranges. */
const PHONE_BASE = portBase("sip-phone-line");

describe("SIP gateway: a person's own phone as one of their devices (baresip registers on loopback)", () => {
  let t: TestServer;
  let gw: SoriClient;
  let alice: SoriClient;
  let bob: SoriClient;
  let gateway: SipGateway | undefined;
  let phone: SipPhone | undefined;
  let line: PhoneLineSettings;
  const dir = mkdtempSync(join(tmpdir(), "sori-lines-"));
  const linesFile = join(dir, "sip-lines.json");
  const heard: Buffer[] = [];

  const startGateway = (digestAlgorithms: ("SHA-256" | "MD5")[]): Promise<SipGateway> =>
    startSipGateway({
      client: gw,
      // A fixed port: the phone keeps its registrar across the gateway's restart.
      listen: { address: "127.0.0.1", port: PHONE_BASE + 6 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 45_000, max: 45_998 },
      loopback: true,
      linesFile,
      digestAlgorithms,
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });

  before(async () => {
    t = await startTestServer(["--gateways", "line_gw"]);
    gw = await newUser(t.url, "line_gw");
    alice = await newUser(t.url, "line_alice");
    bob = await newUser(t.url, "line_bob");
    alice.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    const { platform } = weriftPlatform({
      loopback: true,
      toneHz: BOB_TONE_HZ,
      onAudio: (p) => heard.push(p),
    });
    bob.calls.configure({ platform, ringTimeoutMs: 15_000, useServerTurn: false });
    gateway = await startGateway(["SHA-256", "MD5"]);
    // Bob and Alice know each other: her profile (and the lines in it) reaches him in their chat.
    await directChatSeenBy(bob, "line_alice", alice);
  });
  after(async () => {
    await phone?.stop();
    await gateway?.stop();
    await alice?.close();
    await bob?.close();
    await gw?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("adds a line: the gateway answers with what the phone registers with; only digests are kept, in a 0600 file", async () => {
    line = await alice.phoneLines.add({ gateway: "line_gw", name: "desk" });
    assert.equal(line.aor, `sip:line_alice@127.0.0.1:${gateway!.port}`);
    assert.equal(line.registrar, `sip:127.0.0.1:${gateway!.port}`);
    assert.match(line.authUser, /^line_alice\./);
    assert.ok(line.password.length >= 20);
    assert.deepEqual(
      (await alice.phoneLines.list()).map((l) => [l.name, l.gateway.username]),
      [["desk", "line_gw"]],
    );
    assert.equal(gateway!.stats().lines, 1);
    assert.equal(statSync(linesFile).mode & 0o777, 0o600);
    assert.ok(!readFileSync(linesFile, "utf8").includes(line.password), "the password itself is not stored");
    await assert.rejects(alice.phoneLines.add({ gateway: "line_gw", name: "Desk" }), { code: "conflict" });
    // Only an account the operator marks as a gateway (--gateways) can host a line.
    await assert.rejects(alice.phoneLines.add({ gateway: "line_bob", name: "other" }), {
      code: "not-a-gateway",
      message: /line_bob is not a gateway/,
    });
  });

  it("REGISTER is challenged with both algorithms (in the operator's order); right credentials of either register; wrong ones and unknown users get the same 403", async () => {
    const uri = `sip:127.0.0.1:${gateway!.port}`;
    const register = (cseq: number, auth?: string): string =>
      sipRequest({
        method: "REGISTER",
        uri,
        from: `<${line.aor}>`,
        to: `<${line.aor}>`,
        callId: "raw-register-1",
        cseq,
        headers: [
          ["Contact", "<sip:line_alice@127.0.0.1:5999>"],
          ["Expires", "120"],
          ...(auth ? ([["Authorization", auth]] as [string, string][]) : []),
        ],
      });
    const [first] = await rawExchange(gateway!.port, [register(1)]);
    assert.match(first!, /^SIP\/2.0 401/);
    const offered = challenges(first!);
    assert.deepEqual(
      offered.map((c) => c.algorithm),
      ["SHA-256", "MD5"],
    );
    const { realm, nonce } = offered[0]!;
    const creds = (algorithm: "MD5" | "SHA-256", username: string, password: string, nc: number): string =>
      digestCredentials({ algorithm, realm, nonce, method: "REGISTER", uri, username, password, nc });
    const answers = await rawExchange(gateway!.port, [
      register(2, creds("SHA-256", line.authUser, line.password, 1)),
      register(3, creds("MD5", line.authUser, line.password, 2)),
      register(4, creds("MD5", line.authUser, "not the password", 3)),
      register(5, creds("MD5", "line_alice.nobody00", "not the password", 4)),
      // A replayed request (the same nonce count again) is not accepted either.
      register(6, creds("MD5", line.authUser, line.password, 2)),
    ]);
    assert.match(answers[0]!, /^SIP\/2.0 200[\s\S]*Contact: <sip:line_alice@127.0.0.1:5999>;expires=120/);
    assert.match(answers[1]!, /^SIP\/2.0 200/);
    assert.match(answers[2]!, /^SIP\/2.0 403/);
    assert.match(answers[3]!, /^SIP\/2.0 403/);
    // Byte for byte the same but for the tags and branch: nothing tells the two apart.
    const strip = (s: string): string => s.replace(/tag=\w+|branch=[\w.]+|CSeq: \d+/g, "");
    assert.equal(strip(answers[2]!), strip(answers[3]!));
    assert.match(answers[4]!, /^SIP\/2.0 401[\s\S]*stale=true/);
    // Unregister the raw contact again (the phone below is the line's real one).
    const [gone] = await rawExchange(gateway!.port, [
      sipRequest({
        method: "REGISTER",
        uri,
        from: `<${line.aor}>`,
        to: `<${line.aor}>`,
        callId: "raw-register-1",
        cseq: 7,
        headers: [
          ["Contact", "*"],
          ["Expires", "0"],
          ["Authorization", creds("MD5", line.authUser, line.password, 5)],
        ],
      }),
    ]);
    assert.match(gone!, /^SIP\/2.0 200/);
    assert.equal(gateway!.stats().registrations, 0);
  });

  it("the phone registers with digest auth (MD5 only: libre 1.1 fails on any SHA-256 challenge); a call to Alice rings it beside her devices, and it answering takes the call with audio both ways", async () => {
    // Debian's baresip 1.0 (libre 1.1) refuses a 401 that offers SHA-256 at all, in any order.
    await gateway!.stop();
    gateway = await startGateway(["MD5"]);
    phone = await SipPhone.start({
      sipPort: PHONE_BASE,
      controlPort: PHONE_BASE + 2,
      toneHz: PHONE_TONE_HZ,
      autoAnswer: true,
      line,
    });
    // (baresip registers before its control socket is up: the gateway's count is what tells.)
    await waitFor("the phone registers", () => gateway!.stats().registrations === 1, 10_000);
    const ringsAlice = nextIncoming(alice, 15_000);
    heard.length = 0;
    const call = await bob.calls.start("line_alice");
    const onAlice = await ringsAlice;
    await waitState(call, "connected", 15_000);
    assert.equal(call.via?.name, "desk");
    assert.deepEqual(call.lineOwner, { userId: alice.userId, username: "line_alice" });
    // Alice's own device stops ringing: the call was taken on her phone.
    await waitState(onAlice, "ended");
    assert.equal(onAlice.endReason, "answered-elsewhere");
    await waitFor("a second of the phone's audio", () => heard.length >= 60, 10_000);
    const share = toneShare(decodePcmu(heard.slice(10, 60)), 8000, PHONE_TONE_HZ);
    assert.ok(share > 0.5, `Bob hears the phone's ${PHONE_TONE_HZ} Hz (share ${share.toFixed(2)})`);
    await sleep(1000);
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    const wav = phone.decodedWav();
    assert.ok(wav, "the phone saved what it heard");
    const { sampleRate, samples } = readWav(wav);
    const middle = samples.subarray(Math.floor(sampleRate * 0.5), Math.floor(sampleRate * 1.5));
    const bobTone = toneShare(middle, sampleRate, BOB_TONE_HZ);
    assert.ok(bobTone > 0.5, `the phone hears Bob's ${BOB_TONE_HZ} Hz (share ${bobTone.toFixed(2)})`);
    await waitFor("the gateway forgets the call", () => gateway!.stats().callsActive === 0);
  });

  it("the phone calls a Sori username after a 407 challenge: Bob sees Alice's phone, checked against her profile", async () => {
    phone!.clearEvents();
    const ringing = nextIncoming(bob, 15_000);
    phone!.dial(`sip:line_bob@127.0.0.1:${gateway!.port}`);
    const call = await ringing;
    assert.equal(call.peer.username, "line_gw");
    assert.deepEqual(call.lineOwner, { userId: alice.userId, username: "line_alice" });
    assert.equal(call.via?.name, "desk");
    await call.accept();
    await waitState(call, "connected", 15_000);
    call.hangup();
    await phone!.waitEvent("CALL_CLOSED");
  });

  it("a call claiming to come from Alice's phone without credentials is challenged, with wrong ones refused; calls out to other SIP addresses too", async () => {
    const invite = (uri: string, auth?: string): string =>
      sipRequest({
        method: "INVITE",
        uri,
        from: `<${line.aor}>`,
        to: `<${uri}>`,
        callId: `raw-invite-${Date.now()}-${uri.length}`,
        cseq: 1,
        headers: auth ? [["Proxy-Authorization", auth]] : [],
        body: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
      });
    const bobUri = `sip:line_bob@127.0.0.1:${gateway!.port}`;
    const [challenged] = await rawExchange(gateway!.port, [invite(bobUri)]);
    assert.match(challenged!, /^SIP\/2.0 407[\s\S]*Proxy-Authenticate: Digest/);
    const { realm, nonce } = challenges(challenged!)[0]!;
    const wrong = digestCredentials({
      algorithm: "SHA-256",
      realm,
      nonce,
      method: "INVITE",
      uri: bobUri,
      username: line.authUser,
      password: "guessed",
    });
    const [refused] = await rawExchange(gateway!.port, [invite(bobUri, wrong)]);
    assert.match(refused!, /^SIP\/2.0 403/);
    // Toll fraud's first try: an unauthenticated call to a phone elsewhere.
    const carol = "sip:carol@127.0.0.1:5091";
    const [outbound] = await rawExchange(gateway!.port, [invite(carol)]);
    assert.match(outbound!, /^SIP\/2.0 407/);
    // With the line's own right credentials it is still refused: phones call Sori usernames only.
    const fresh = challenges(outbound!)[0]!;
    const right = (uri: string): string =>
      digestCredentials({
        algorithm: fresh.algorithm === "SHA-256" ? "SHA-256" : "MD5",
        realm: fresh.realm,
        nonce: fresh.nonce,
        method: "INVITE",
        uri,
        username: line.authUser,
        password: line.password,
      });
    const [authorizedOut] = await rawExchange(gateway!.port, [invite(carol, right(carol))]);
    assert.match(authorizedOut!, /^SIP\/2.0 403[\s\S]*other SIP addresses are not relayed/);
    // An answer computed for another request (captured and replayed elsewhere) does not count.
    const [elsewhere] = await rawExchange(gateway!.port, [invite(bobUri, right("sip:line_bob@127.0.0.1"))]);
    assert.match(elsewhere!, /^SIP\/2.0 403/);
    assert.ok(gateway!.stats().authFailures >= 1);
  });

  it("the gateway restarted mid-call ends both sides cleanly; registrations survive it and a Sori server restart", async () => {
    phone!.clearEvents();
    const during = await bob.calls.start("line_alice");
    await waitState(during, "connected", 15_000);
    await gateway!.stop();
    await waitState(during, "ended", 10_000);
    assert.equal(during.endReason, "remote-hangup");
    await phone!.waitEvent("CALL_CLOSED");
    gateway = await startGateway(["MD5"]);
    assert.equal(gateway.stats().lines, 1);
    assert.equal(gateway.stats().registrations, 1, "the phone's binding was kept");
    await t.restart();
    await waitFor("the gateway is back online", () => gw.connectionState === "connected", 15_000);
    await waitFor("Bob is back online", () => bob.connectionState === "connected", 15_000);
    phone!.clearEvents();
    const call = await bob.calls.start("line_alice");
    await waitState(call, "connected", 20_000);
    assert.equal(call.via?.name, "desk");
    call.hangup();
    await phone!.waitEvent("CALL_CLOSED");
  });

  it("a second line at the same gateway: one ring carries both, the phone registered last takes it and is named", async () => {
    const laptopLine = await alice.phoneLines.add({ gateway: "line_gw", name: "laptop" });
    const laptop = await SipPhone.start({
      sipPort: PHONE_BASE + 8,
      controlPort: PHONE_BASE + 10,
      toneHz: PHONE_TONE_HZ,
      autoAnswer: true,
      line: laptopLine,
    });
    try {
      await waitFor("both phones are registered", () => gateway!.stats().registrations === 2, 10_000);
      phone!.clearEvents();
      const call = await bob.calls.start("line_alice");
      await waitState(call, "connected", 15_000);
      assert.equal(call.via?.name, "laptop", "named as Alice's profile names the line that answered");
      assert.deepEqual(call.lineOwner, { userId: alice.userId, username: "line_alice" });
      assert.deepEqual(
        phone!.events.filter((e) => e.type === "CALL_INCOMING"),
        [],
        "the desk phone, registered earlier, did not ring",
      );
      call.hangup();
      await laptop.waitEvent("CALL_CLOSED");
    } finally {
      await alice.phoneLines.remove("laptop");
      await laptop.stop();
    }
    await waitFor("the laptop's line is gone", () => gateway!.stats().lines === 1, 10_000);
  });

  it("removing the line revokes it at once: its registration goes, calls no longer ring it, its credentials stop working", async () => {
    await alice.phoneLines.remove("desk");
    await waitFor("the gateway drops the line", () => gateway!.stats().lines === 0, 10_000);
    assert.equal(gateway!.stats().registrations, 0);
    assert.deepEqual(await alice.phoneLines.list(), []);
    phone!.clearEvents();
    const ringsAlice = nextIncoming(alice, 15_000);
    const call = await bob.calls.start("line_alice");
    const onAlice = await ringsAlice;
    await sleep(1500);
    assert.equal(call.state, "ringing-out", "nobody took it");
    assert.deepEqual(
      phone!.events.filter((e) => e.type === "CALL_INCOMING"),
      [],
      "the phone did not ring",
    );
    onAlice.decline();
    await waitState(call, "ended");
    const uri = `sip:127.0.0.1:${gateway!.port}`;
    const [first] = await rawExchange(gateway!.port, [
      sipRequest({
        method: "REGISTER",
        uri,
        from: `<${line.aor}>`,
        to: `<${line.aor}>`,
        callId: "r2",
        cseq: 1,
      }),
    ]);
    const { realm, nonce } = challenges(first!)[0]!;
    const [answer] = await rawExchange(gateway!.port, [
      sipRequest({
        method: "REGISTER",
        uri,
        from: `<${line.aor}>`,
        to: `<${line.aor}>`,
        callId: "r2",
        cseq: 2,
        headers: [
          ["Contact", "<sip:line_alice@127.0.0.1:5999>"],
          [
            "Authorization",
            digestCredentials({
              algorithm: "MD5",
              realm,
              nonce,
              method: "REGISTER",
              uri,
              username: line.authUser,
              password: line.password,
            }),
          ],
        ],
      }),
    ]);
    assert.match(answer!, /^SIP\/2.0 403/);
  });
});
