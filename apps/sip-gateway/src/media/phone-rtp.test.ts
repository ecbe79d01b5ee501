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

test("a phone behind NAT: its RTP comes from its SIP address, not its SDP's, and the leg latches to it", async () => {
  const leg = await PhoneRtpLeg.open("127.0.0.1", { min: 49_000, max: 49_998 });
  // The SDP says 192.0.2.10 (private side of a NAT); SIP and RTP really come from 127.0.0.3.
  const natted = createSocket("udp4");
  const other = createSocket("udp4");
  await new Promise<void>((r) => natted.bind(0, "127.0.0.3", r));
  await new Promise<void>((r) => other.bind(0, "127.0.0.4", r));
  try {
    leg.connect({ address: "192.0.2.10", port: 4000 }, "127.0.0.3");
    const got: Buffer[] = [];
    leg.onPacket((p) => got.push(p));
    const good = Buffer.alloc(12 + 160);
    good[0] = 0x80;
    const send = (s: typeof natted, b: Buffer): Promise<void> =>
      new Promise((r) => s.send(b, leg.port, "127.0.0.1", () => r()));
    await send(other, good);
    await send(natted, good);
    await send(other, good);
    const deadline = Date.now() + 2000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 1);
    assert.equal(leg.stats.dropped, 2);
    // What the gateway sends goes to where the phone's packets came from.
    const back = new Promise<Buffer>((r) => natted.once("message", r));
    leg.send(good, 0);
    assert.equal((await back).length, good.length);
  } finally {
    leg.close();
    natted.close();
    other.close();
  }
});

test("a phone that moves its media (re-INVITE): the old port is refused, the new one latched, and sends go there", async () => {
  const leg = await PhoneRtpLeg.open("127.0.0.1", { min: 49_000, max: 49_998 });
  const before = createSocket("udp4");
  const after = createSocket("udp4");
  await new Promise<void>((r) => before.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => after.bind(0, "127.0.0.1", r));
  const good = Buffer.alloc(12 + 160);
  good[0] = 0x80;
  const send = (s: typeof before): Promise<void> =>
    new Promise((r) => s.send(good, leg.port, "127.0.0.1", () => r()));
  const settle = async (count: number): Promise<void> => {
    const deadline = Date.now() + 2000;
    while (leg.stats.received + leg.stats.dropped < count && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
  };
  try {
    leg.connect({ address: "127.0.0.1", port: before.address().port }, "127.0.0.1");
    leg.onPacket(() => undefined);
    await send(before);
    await settle(1);
    assert.equal(leg.stats.received, 1);
    leg.moveTo({ address: "127.0.0.1", port: after.address().port });
    // A packet from the old port arrives first: on the same host, but it must not take the latch.
    await send(before);
    await settle(2);
    await send(after);
    await settle(3);
    await send(before);
    await settle(4);
    assert.deepEqual([leg.stats.received, leg.stats.dropped], [2, 2]);
    const reached = new Promise<Buffer>((r) => after.once("message", r));
    leg.send(Buffer.from(good), 0);
    assert.equal((await reached).length, good.length);
    // Moving back to the first port is allowed again.
    leg.moveTo({ address: "127.0.0.1", port: before.address().port });
    await send(before);
    await settle(5);
    assert.equal(leg.stats.received, 3);
  } finally {
    leg.close();
    before.close();
    after.close();
  }
});
