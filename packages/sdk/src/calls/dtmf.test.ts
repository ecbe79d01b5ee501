import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDtmfTones, DtmfError, DtmfReceiver, DtmfSender } from "./dtmf.ts";

test("DTMF tones are 0-9, *, #, A-D; letters are upper-cased", () => {
  assert.equal(checkDtmfTones("0123456789*#"), "0123456789*#");
  assert.equal(checkDtmfTones("abcd"), "ABCD");
  for (const bad of ["", "E", "1,2", " 1", "١"])
    assert.throws(
      () => checkDtmfTones(bad),
      (e: unknown) => e instanceof DtmfError && e.code === "invalid-tones",
    );
});

/** An RFC 4733 payload: event, end bit, volume 10, duration. */
const event = (code: number, end: boolean, duration: number): Uint8Array =>
  Uint8Array.of(code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff);

test("received telephone-events are one key per event: updates and the three end packets are not new keys", () => {
  const rx = new DtmfReceiver();
  const keys: string[] = [];
  const feed = (timestamp: number, payload: Uint8Array): void => {
    const key = rx.push(timestamp, payload);
    if (key !== undefined) keys.push(key);
  };
  // "1" as baresip sends it: a start, updates every 20 ms, the end three times, all at the start's timestamp.
  for (let d = 160; d <= 1440; d += 160) feed(1000, event(1, false, d));
  for (let i = 0; i < 3; i++) feed(1000, event(1, true, 1440));
  // "1" again (a new press has a new timestamp), then "#" whose first packets were lost.
  feed(3000, event(1, false, 160));
  feed(3000, event(1, true, 800));
  feed(5000, event(11, true, 800));
  // A late packet of the first event after others: still not a new key.
  feed(1000, event(1, true, 1440));
  // Flash (16), unknown events and short payloads are not keys.
  feed(7000, event(16, false, 160));
  feed(7160, event(200, false, 160));
  feed(7320, Uint8Array.of(1, 0));
  assert.deepEqual(keys, ["1", "1", "#"]);
  for (const [code, key] of [
    [0, "0"],
    [9, "9"],
    [10, "*"],
    [12, "A"],
    [15, "D"],
  ] as const)
    assert.equal(new DtmfReceiver().push(1, event(code, false, 160)), key);
});

test("sent keys: 100 ms events at the frame's clock, three end packets, a 70 ms gap of audio, and the receiver reads them back", () => {
  const tx = new DtmfSender();
  tx.enqueue("1#");
  assert.equal(tx.pending, 2);
  const rx = new DtmfReceiver();
  const frames: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < 20; i++) {
    const ts = 1000 + i * 160;
    const f = tx.next(ts);
    if (!f) {
      frames.push("audio");
      continue;
    }
    const duration = (f.payload[2]! << 8) | f.payload[3]!;
    const end = (f.payload[1]! & 0x80) !== 0;
    frames.push(
      `${f.payload[0]}@${f.timestamp}${f.marker ? "M" : ""}:${duration}${end ? `E×${f.copies}` : ""}`,
    );
    for (let c = 0; c < f.copies; c++) {
      const key = rx.push(f.timestamp, f.payload);
      if (key !== undefined) keys.push(key);
    }
  }
  assert.deepEqual(frames, [
    "1@1000M:160",
    "1@1000:320",
    "1@1000:480",
    "1@1000:640",
    "1@1000:800E×3",
    "audio",
    "audio",
    "audio",
    "audio",
    "11@2440M:160",
    "11@2440:320",
    "11@2440:480",
    "11@2440:640",
    "11@2440:800E×3",
    "audio",
    "audio",
    "audio",
    "audio",
    "audio",
    "audio",
  ]);
  assert.deepEqual(keys, ["1", "#"]);
  assert.equal(tx.pending, 0);
  assert.throws(
    () => tx.enqueue("12x"),
    (e: unknown) => e instanceof DtmfError && e.code === "invalid-tones",
  );
  assert.equal(tx.pending, 0, "nothing of a refused string is queued");
});
