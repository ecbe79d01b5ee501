import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, type SipGatewayOptions, startSipGateway } from "@sori/sip-gateway";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { FakeTrunk } from "../fake-trunk.ts";
import { rawExchange, sipRequest } from "../sip-raw.ts";
import { nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";

describe("SIP gateway: numbers through a SIP trunk with digest credentials", () => {
  let t: TestServer;
  let gw: SoriClient;
  let dave: SoriClient;
  let eve: SoriClient;
  let trunk: FakeTrunk;
  let gateway: SipGateway | undefined;
  const heard: Buffer[] = [];
  const logs: string[] = [];

  const startGateway = (extra: Partial<SipGatewayOptions>): Promise<SipGateway> =>
    startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 46_000, max: 46_998 },
      loopback: true,
      outbound: ["trunk_dave"],
      log: createLogger("info", (l) => logs.push(l)),
      ...extra,
    });
  const withTrunk = (password: string): Partial<SipGatewayOptions> => ({
    trunk: {
      uri: `sip:127.0.0.1:${trunk.port}`,
      username: "sori-gw",
      password,
      callerId: "+82212345678",
      inbound: { "+82-2-1234-5678": "trunk_dave" },
    },
  });

  before(async () => {
    t = await startTestServer(["--gateways", "trunk_gw"]);
    gw = await newUser(t.url, "trunk_gw");
    dave = await newUser(t.url, "trunk_dave");
    eve = await newUser(t.url, "trunk_eve");
    const { platform } = weriftPlatform({ loopback: true, onAudio: (p) => heard.push(p) });
    dave.calls.configure({ platform, ringTimeoutMs: 10_000, useServerTurn: false });
    eve.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    trunk = await FakeTrunk.start("sori-gw", "trunk password");
    gateway = await startGateway(withTrunk("trunk password"));
  });
  after(async () => {
    await gateway?.stop();
    trunk?.stop();
    await dave?.close();
    await eve?.close();
    await gw?.close();
    await t?.stop();
  });

  it("a number is INVITEd at the trunk, its 407 answered with the trunk account; audio flows both ways; hang-up is a BYE", async () => {
    heard.length = 0;
    const call = await dave.calls.start("trunk_gw", { via: { network: "sip", uri: "tel:+82 10-1234-5678" } });
    await waitState(call, "connected", 15_000);
    const seen = trunk.calls.at(-1);
    assert.ok(seen?.authorized, "the second INVITE carried the right digest");
    assert.equal(seen.requestUri, `sip:+821012345678@127.0.0.1:${trunk.port}`);
    assert.match(seen.from, /<sip:\+82212345678@127\.0\.0\.1>/, "the trunk account's number as caller id");
    // RFC 3261 §22.2: the 407 is ACKed on its CSeq, the retry is the next CSeq of the same Call-ID and From tag.
    const [first, ack, retry] = seen.requests;
    assert.deepEqual([first?.cseq, ack?.cseq, retry?.cseq], ["1 INVITE", "1 ACK", "2 INVITE"]);
    assert.equal(new Set(seen.requests.map((r) => `${r.callId} ${r.fromTag}`)).size, 1);
    await waitFor("the trunk's audio reaches the caller", () => heard.length >= 25, 10_000);
    await waitFor(
      "the caller's audio reaches the trunk",
      () => (trunk.calls.at(-1)?.rtpReceived ?? 0) >= 25,
      10_000,
    );
    call.hangup();
    await waitFor("the trunk gets a BYE", () => trunk.calls.at(-1)?.byeReceived === true, 5000);
    assert.ok(!logs.join("").includes("trunk password"), "the trunk password is never logged");
  });

  it("a call from the trunk to one of its numbers rings the Sori user that number is for", async () => {
    const ringing = nextIncoming(dave, 10_000);
    const answer = rawExchange(gateway!.port, [
      sipRequest({
        method: "INVITE",
        uri: `sip:+82212345678@127.0.0.1:${gateway!.port}`,
        from: '"Kim" <sip:+821099998888@127.0.0.1>',
        to: `<sip:+82212345678@127.0.0.1:${gateway!.port}>`,
        callId: `trunk-in-${Date.now()}`,
        cseq: 1,
        body: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
      }),
    ]);
    const call = await ringing;
    assert.equal(call.via?.uri, "sip:+821099998888@127.0.0.1");
    assert.equal(call.via?.name, "Kim");
    call.decline();
    assert.match((await answer)[0] ?? "", /^SIP\/2.0 603/);
  });

  it("a trunk that refuses the credentials leaves the caller unreachable; without a trunk numbers are unreachable; others may not call out", async () => {
    await gateway!.stop();
    gateway = await startGateway(withTrunk("a wrong password"));
    const refused = await dave.calls.start("trunk_gw", { via: { network: "sip", uri: "tel:+821012345678" } });
    await waitState(refused, "ended", 15_000);
    assert.equal(refused.endReason, "unreachable");
    assert.match(logs.join(""), /"event":"sip-trunk-auth-failed"/);
    await gateway.stop();
    gateway = await startGateway(withTrunk("trunk password"));
    const before = trunk.calls.length;
    const notAllowed = await eve.calls.start("trunk_gw", {
      via: { network: "sip", uri: "tel:+821012345678" },
    });
    await waitState(notAllowed, "ended", 10_000);
    assert.equal(notAllowed.endReason, "declined");
    await sleep(300);
    assert.equal(trunk.calls.length, before, "nothing reached the trunk for a caller not allowed");
    await gateway.stop();
    gateway = await startGateway({});
    const noTrunk = await dave.calls.start("trunk_gw", { via: { network: "sip", uri: "tel:+821012345678" } });
    await waitState(noTrunk, "ended", 10_000);
    assert.equal(noTrunk.endReason, "unreachable");
  });
});
