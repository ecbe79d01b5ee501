import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_SIP_MESSAGE_BYTES } from "../sip/sip-message.ts";
import { type StreamEvent, StreamFramer } from "./stream-framer.ts";

function message(body = "", extraHeaders = ""): string {
  return (
    "INVITE sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKs1\r\n" +
    "From: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
    `${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

const texts = (events: StreamEvent[]): string[] =>
  events.flatMap((e) => (e.kind === "message" ? [e.bytes.toString("utf8")] : []));

test("two messages in one chunk come out as two; one split anywhere comes out whole once", () => {
  const a = message("v=0\r\n");
  const b = message();
  const f = new StreamFramer();
  assert.deepEqual(texts(f.push(Buffer.from(a + b))), [a, b]);
  for (let cut = 1; cut < a.length; cut += 7) {
    const g = new StreamFramer();
    const first = g.push(Buffer.from(a.slice(0, cut)));
    assert.deepEqual(texts(first), []);
    assert.deepEqual(texts(g.push(Buffer.from(a.slice(cut)))), [a]);
    assert.equal(g.buffered, 0);
  }
});

test("a body split across chunks (multi-byte characters too) waits for its Content-Length in bytes", () => {
  const body = "v=0\r\ns=통화\r\n";
  const whole = Buffer.from(message(body));
  const f = new StreamFramer();
  const cut = whole.length - 5;
  assert.deepEqual(f.push(whole.subarray(0, cut)), []);
  assert.deepEqual(f.push(whole.subarray(cut, cut + 2)), []);
  const out = f.push(whole.subarray(cut + 2));
  assert.deepEqual(texts(out), [message(body)]);
});

test("compact Content-Length (l:) frames too", () => {
  const m = message("", "").replace("Content-Length: 0", "l: 3") + "abc";
  assert.deepEqual(texts(new StreamFramer().push(Buffer.from(m))), [m]);
});

test("CRLF keep-alives: a double CRLF is a ping, a single one (a pong) is ignored, between messages", () => {
  const a = message();
  const f = new StreamFramer();
  const events = f.push(Buffer.from(`\r\n\r\n${a}\r\n${a}\r\n\r\n`));
  assert.deepEqual(
    events.map((e) => e.kind),
    ["ping", "message", "message", "ping"],
  );
});

test("no Content-Length on a stream: fatal with a 400 and the head to answer; nothing after it is read", () => {
  const noLength = message().replace("Content-Length: 0\r\n", "");
  const f = new StreamFramer();
  const events = f.push(Buffer.from(noLength + message()));
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.kind, "fatal");
  if (e.kind !== "fatal") return;
  assert.equal(e.status, 400);
  assert.match(e.reason, /missing Content-Length/);
  assert.match(e.head ?? "", /^INVITE sip:alice/);
  assert.deepEqual(f.push(Buffer.from(message())), [], "a broken stream stays broken");
});

test("a malformed or doubled Content-Length is fatal too", () => {
  const bad = message().replace("Content-Length: 0", "Content-Length: -1");
  assert.equal(new StreamFramer().push(Buffer.from(bad))[0]?.kind, "fatal");
  const twice = message("", "Content-Length: 0\r\n");
  assert.equal(new StreamFramer().push(Buffer.from(twice))[0]?.kind, "fatal");
});

test("oversize: a Content-Length past the limit is 513; a head that never ends is closed unanswered; the buffer stays bounded", () => {
  const big = message().replace("Content-Length: 0", `Content-Length: ${MAX_SIP_MESSAGE_BYTES}`);
  const e = new StreamFramer().push(Buffer.from(big))[0];
  assert.equal(e?.kind, "fatal");
  if (e?.kind === "fatal") assert.equal(e.status, 513);
  const f = new StreamFramer();
  const endless = Buffer.from(`INVITE sip:a@b SIP/2.0\r\nX: ${"a".repeat(1000)}`);
  let fatal: StreamEvent | undefined;
  for (let i = 0; i < 40 && !fatal; i++) {
    fatal = f.push(endless).find((x) => x.kind === "fatal");
    assert.ok(f.buffered <= MAX_SIP_MESSAGE_BYTES + endless.length);
  }
  assert.ok(fatal && fatal.kind === "fatal");
  assert.equal(fatal.status, undefined);
  assert.equal(f.buffered, 0);
});
