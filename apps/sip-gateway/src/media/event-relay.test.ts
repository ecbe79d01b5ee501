import assert from "node:assert/strict";
import { test } from "node:test";
import { DtmfReceiver } from "@sori/sdk";
import { type RtpHeader, RtpPacket } from "werift";
import type { EventSender } from "@sori/werift-calls";
import { eventForSori, relayEvent } from "./event-relay.ts";

/** A phone's telephone-event packet as baresip writes it (PT 101, its SSRC), parsed from the wire. */
function phoneEvent(o: {
  seq: number;
  ts: number;
  marker: boolean;
  event: number;
  end: boolean;
  duration: number;
}): RtpPacket {
  const b = Buffer.alloc(16);
  b[0] = 0x80;
  b[1] = (o.marker ? 0x80 : 0) | 101;
  b.writeUInt16BE(o.seq, 2);
  b.writeUInt32BE(o.ts, 4);
  b.writeUInt32BE(0xdeadbeef, 8);
  b[12] = o.event;
  b[13] = (o.end ? 0x80 : 0) | 10;
  b.writeUInt16BE(o.duration, 14);
  return RtpPacket.deSerialize(b);
}

test("a phone's key press reaches the Sori side as telephone-events with its payload type, the stream's numbering kept", async () => {
  // "5" as baresip sends it: a start with the marker, updates, the end three times; audio in between
  // took the even sequence numbers, so events keep the phone's own.
  const packets = [
    phoneEvent({ seq: 65_533, ts: 4_294_967_000, marker: true, event: 5, end: false, duration: 160 }),
    phoneEvent({ seq: 65_535, ts: 4_294_967_000, marker: false, event: 5, end: false, duration: 320 }),
    phoneEvent({ seq: 1, ts: 4_294_967_000, marker: false, event: 5, end: true, duration: 480 }),
    phoneEvent({ seq: 3, ts: 4_294_967_000, marker: false, event: 5, end: true, duration: 480 }),
    phoneEvent({ seq: 5, ts: 4_294_967_000, marker: false, event: 5, end: true, duration: 480 }),
  ];
  const sent: { header: RtpHeader; payload: Buffer }[] = [];
  const sender: EventSender = {
    ssrc: 0x01020304,
    dtlsTransport: {
      state: "connected",
      sendRtp: async (payload, header) => {
        sent.push({ header, payload });
        return payload.length;
      },
    },
  };
  for (const p of packets) await relayEvent(sender, p, 126);
  assert.equal(sent.length, 5, "every packet, the end's repeats too");
  assert.deepEqual(
    sent.map((s) => [
      s.header.payloadType,
      s.header.ssrc,
      s.header.sequenceNumber,
      s.header.timestamp,
      s.header.marker,
    ]),
    [
      [126, 0x01020304, 65_533, 4_294_967_000, true],
      [126, 0x01020304, 65_535, 4_294_967_000, false],
      [126, 0x01020304, 1, 4_294_967_000, false],
      [126, 0x01020304, 3, 4_294_967_000, false],
      [126, 0x01020304, 5, 4_294_967_000, false],
    ],
  );
  // Event, end bit, volume and duration unchanged.
  assert.deepEqual(
    sent.map((s) => s.payload.toString("hex")),
    ["050a00a0", "050a0140", "058a01e0", "058a01e0", "058a01e0"],
  );
  // What the Sori side makes of them: one key.
  const rx = new DtmfReceiver();
  const keys = sent.map((s) => rx.push(s.header.timestamp, s.payload)).filter((k) => k !== undefined);
  assert.deepEqual(keys, ["5"]);
  // The serialised packet carries exactly that header: 12 bytes, version 2, no extension.
  const wire = eventForSori(packets[0]!, { payloadType: 126, ssrc: 0x01020304 }).serialize();
  assert.equal(wire.subarray(0, 12).toString("hex"), "80fefffdfffffed801020304");

  // Before DTLS is up nothing goes out (as werift's own sendRtp).
  sent.length = 0;
  await relayEvent(
    { ...sender, dtlsTransport: { ...sender.dtlsTransport, state: "connecting" } },
    packets[0]!,
    126,
  );
  assert.equal(sent.length, 0);
});
