import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import { PhoneRtpLeg } from "./phone-rtp.ts";

test("takes RTP only from the phone the SDP named, and drops packets too short for what they announce", async () => {
  const leg = await PhoneRtpLeg.open("127.0.0.1", { min: 49_000, max: 49_998 });
  const phone = createSocket("udp4");
  const stranger = createSocket("udp4");
  await new Promise<void>((r) => phone.bind(0, "127.0.0.1", r));
  // Another host (Linux routes all of 127/8 to loopback).
  await new Promise<void>((r) => stranger.bind(0, "127.0.0.2", r));
  try {
    leg.connect({ address: "127.0.0.1", port: phone.address().port });
    const got: Buffer[] = [];
    leg.onPacket((p) => got.push(p));
    const good = Buffer.alloc(12 + 160);
    good[0] = 0x80;
    const send = (s: typeof phone, b: Buffer): Promise<void> =>
      new Promise((r) => s.send(b, leg.port, "127.0.0.1", () => r()));
    // 15 CSRCs announced in a bare header; an extension bit with no extension; RTP version 1.
    await send(phone, Buffer.from("8f0000010000000001020304", "hex"));
    await send(phone, Buffer.from("900000010000000001020304", "hex"));
    await send(phone, Buffer.from("4000000100000000010203040506", "hex"));
    await send(stranger, good);
    await send(phone, good);
    await send(stranger, good);
    const deadline = Date.now() + 2000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 1);
    assert.equal(leg.stats.received, 1);
    assert.equal(leg.stats.dropped, 5);
  } finally {
    leg.close();
    phone.close();
    stranger.close();
  }
});
