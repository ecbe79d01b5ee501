import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "./errors.ts";
import { parseClientFrame, parseResult, parseServerFrame, peekRequestId } from "./frames.ts";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseClientFrame(text),
    (e: unknown) => e instanceof ProtocolError && e.code === "bad-frame" && pattern.test(e.message),
  );
}

describe("client frames", () => {
  it("parses a send and decodes its data to bytes", () => {
    const f = parseClientFrame(
      JSON.stringify({ type: "send", id: 7, groupId: ID, epoch: 3, messageId: ID, data: "AQID" }),
    );
    assert.equal(f.type, "send");
    if (f.type !== "send") return;
    assert.deepEqual(f.data, new Uint8Array([1, 2, 3]));
    assert.equal(f.epoch, 3);
  });

  it("rejects malformed frames with the reason", () => {
    rejects("nope", /not valid JSON/);
    rejects(JSON.stringify({ type: "send", id: 1 }), /groupId/);
    rejects(
      JSON.stringify({ type: "send", id: 1, groupId: "short", epoch: 0, messageId: ID, data: "" }),
      /base64url id/,
    );
    rejects(
      JSON.stringify({ type: "send", id: 1, groupId: ID, epoch: -1, messageId: ID, data: "" }),
      /epoch/,
    );
    rejects(
      JSON.stringify({ type: "send", id: 1, groupId: ID, epoch: 1, messageId: ID, data: "@@@@" }),
      /base64/,
    );
    rejects(JSON.stringify({ type: "ping", id: 1, extra: true }), /extra|Unrecognized/i);
    rejects(JSON.stringify({ type: "launch-missiles", id: 1 }), /type/);
    rejects(JSON.stringify({ type: "dir.users", id: 1, usernames: ["no spaces allowed"] }), /usernames/);
    rejects(JSON.stringify([1, 2, 3]), /invalid frame/);
  });

  it("finds the request id of a frame that failed to parse", () => {
    assert.equal(peekRequestId(JSON.stringify({ type: "x", id: 42 })), 42);
    assert.equal(peekRequestId(JSON.stringify({ id: "r1" })), "r1");
    assert.equal(peekRequestId(JSON.stringify({ id: { nested: 1 } })), undefined);
    assert.equal(peekRequestId("garbage"), undefined);
  });
});

describe("unanswered acks (feature level 3)", () => {
  it("an ack may leave out its id; nothing else may", () => {
    assert.deepEqual(parseClientFrame('{"type":"ack","upTo":12}'), { type: "ack", upTo: 12 });
    assert.deepEqual(parseClientFrame('{"type":"ack","id":4,"upTo":12}'), { type: "ack", id: 4, upTo: 12 });
    assert.throws(() => parseClientFrame('{"type":"ping"}'), ProtocolError);
    assert.throws(() => parseClientFrame('{"type":"ack","upTo":1.5}'), ProtocolError);
  });
});

describe("server frames", () => {
  it("parses deliveries and typed results", () => {
    const d = parseServerFrame(
      JSON.stringify({
        type: "deliver",
        seq: 5,
        kind: "message",
        groupId: ID,
        messageId: ID,
        from: { userId: ID, deviceId: ID },
        epoch: 2,
        data: "AQ==",
        sentAt: 1,
      }),
    );
    assert.equal(d.type, "deliver");
    const r = parseResult("send", { messageId: ID, sentAt: 10, duplicate: false });
    assert.equal(r.duplicate, false);
    assert.throws(() => parseResult("send", { messageId: ID }), ProtocolError);
    assert.throws(() => parseServerFrame(JSON.stringify({ type: "deliver", seq: -1 })), ProtocolError);
  });
});

describe("call signalling frames (feature level 2)", () => {
  it("a transient send, the relay push and TURN credentials parse; a bad relay does not", () => {
    const send = parseClientFrame(
      JSON.stringify({
        type: "send",
        id: 1,
        groupId: ID,
        epoch: 2,
        messageId: ID,
        data: "AQID",
        transient: true,
      }),
    );
    assert.equal(send.type === "send" && send.transient, true);
    rejects(
      JSON.stringify({ type: "send", id: 1, groupId: ID, epoch: 2, messageId: ID, data: "", transient: 1 }),
      /transient/,
    );
    const relay = parseServerFrame(
      JSON.stringify({
        type: "relay",
        groupId: ID,
        messageId: ID,
        from: { userId: ID, deviceId: ID },
        epoch: 2,
        data: "AQID",
        sentAt: 1,
      }),
    );
    assert.equal(relay.type, "relay");
    if (relay.type === "relay") assert.deepEqual(relay.data, new Uint8Array([1, 2, 3]));
    assert.throws(() => parseServerFrame(JSON.stringify({ type: "relay", groupId: ID, messageId: ID })));
    const turn = parseResult("turn.credentials", {
      iceServers: [{ urls: ["turn:127.0.0.1:3478"], username: "100:u", credential: "c2VjcmV0" }],
      ttlS: 600,
    });
    assert.equal(turn.iceServers[0]?.username, "100:u");
    assert.equal(
      parseClientFrame(JSON.stringify({ type: "turn.credentials", id: 2 })).type,
      "turn.credentials",
    );
  });
});

describe("push subscriptions (feature level 7)", () => {
  const p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
  const sub = {
    endpoint: "https://fcm.googleapis.com/fcm/send/abc",
    keys: { p256dh, auth: "BTBZMqHH6r4Tts7J_aSIgg" },
  };

  it("takes a browser's PushSubscription JSON, with its keys decoded to bytes", () => {
    const f = parseClientFrame(
      JSON.stringify({ type: "push.subscribe", id: 1, ...sub, expirationTime: null }),
    );
    assert.ok(f.type === "push.subscribe");
    assert.equal(f.keys.p256dh.length, 65);
    assert.equal(f.keys.auth.length, 16);
    assert.equal(parseClientFrame('{"type":"push.unsubscribe","id":2}').type, "push.unsubscribe");
    assert.deepEqual(parseResult("push.status", { vapidPublicKey: p256dh, subscription: null }), {
      vapidPublicKey: p256dh,
      subscription: null,
    });
  });

  it("refuses endpoints that are not http(s) URLs and keys of the wrong size", () => {
    const frame = (over: object): string =>
      JSON.stringify({ type: "push.subscribe", id: 1, ...sub, ...over });
    rejects(frame({ endpoint: "ftp://push.example/x" }), /endpoint/);
    rejects(frame({ endpoint: "https://push.example/x#frag" }), /endpoint/);
    rejects(frame({ endpoint: "/relative" }), /endpoint/);
    rejects(frame({ keys: { p256dh: p256dh.slice(0, -4), auth: sub.keys.auth } }), /p256dh/);
    rejects(frame({ keys: { p256dh: `C${p256dh.slice(1)}`, auth: sub.keys.auth } }), /p256dh/);
    rejects(frame({ keys: { p256dh, auth: "AAAAAAAAAAAAAAAAAAAA" } }), /auth/);
  });

  it("a transient send may ring (wake: call); nothing else is a wake", () => {
    const send = { type: "send", id: 1, groupId: ID, epoch: 1, messageId: ID, data: "AQID", transient: true };
    const f = parseClientFrame(JSON.stringify({ ...send, wake: "call" }));
    assert.ok(f.type === "send" && f.wake === "call");
    rejects(JSON.stringify({ ...send, wake: "message" }), /wake/);
  });
});
