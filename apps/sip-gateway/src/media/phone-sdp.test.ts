import assert from "node:assert/strict";
import { test } from "node:test";
import { answerDirection, readPhoneSdp, reviseSdp, writePhoneSdp } from "./phone-sdp.ts";

const offer = (lines: string[], connection = "127.0.0.1"): string =>
  ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", `c=IN IP4 ${connection}`, "t=0 0", ...lines, ""].join("\r\n");

test("a phone's direction: the audio stream's, else the session's, else sendrecv; c=0.0.0.0 is a hold", () => {
  assert.equal(readPhoneSdp(offer(["m=audio 4000 RTP/AVP 0"])).direction, "sendrecv");
  assert.equal(readPhoneSdp(offer(["m=audio 4000 RTP/AVP 0", "a=sendonly"])).direction, "sendonly");
  assert.equal(readPhoneSdp(offer(["a=inactive", "m=audio 4000 RTP/AVP 0"])).direction, "inactive");
  assert.equal(
    readPhoneSdp(offer(["a=inactive", "m=audio 4000 RTP/AVP 0", "a=recvonly"])).direction,
    "recvonly",
  );
  // RFC 2543's hold: an address nothing can be sent to.
  assert.equal(readPhoneSdp(offer(["m=audio 4000 RTP/AVP 0"], "0.0.0.0")).direction, "sendonly");
  assert.equal(
    readPhoneSdp(offer(["m=audio 4000 RTP/AVP 0", "a=recvonly"], "0.0.0.0")).direction,
    "inactive",
  );
  assert.deepEqual((["sendrecv", "sendonly", "recvonly", "inactive"] as const).map(answerDirection), [
    "sendrecv",
    "recvonly",
    "sendonly",
    "inactive",
  ]);
});

test("the gateway's SDP keeps its o= version until it changes, then raises it by one", () => {
  const codec = {
    mimeType: "audio/PCMU",
    name: "PCMU",
    clockRate: 8000,
    channels: 1,
    payloadType: 0,
    fmtp: undefined,
  } as const;
  const base = { address: "127.0.0.1", port: 40_000, codecs: [codec], telephoneEvent: 101 };
  const first = writePhoneSdp({ ...base, sessionId: 1_700_000_000_000, version: 1 });
  assert.equal(reviseSdp(first, base), first, "unchanged: the same text, version 1");
  const held = reviseSdp(first, { ...base, direction: "recvonly" });
  assert.match(held, /^o=sori 1700000000000 2 IN IP4 127\.0\.0\.1$/m);
  assert.match(held, /^a=recvonly$/m);
  assert.equal(reviseSdp(held, { ...base, direction: "recvonly" }), held);
  const resumed = reviseSdp(held, base);
  assert.match(resumed, /^o=sori 1700000000000 3 /m);
  // Without DTMF: changed again.
  assert.match(reviseSdp(resumed, { ...base, telephoneEvent: undefined }), /^o=sori 1700000000000 4 /m);
});
