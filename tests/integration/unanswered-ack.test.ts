import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FEATURE_LEVEL, UNANSWERED_ACK_LEVEL } from "@sori/protocol";
import { type Frame, rawSocket } from "../raw-socket.ts";
import { deviceToken, newUser, suiteServer } from "../helpers.ts";

describe("acks without an id (feature level 3)", () => {
  const t = suiteServer();

  it("delete what they acknowledge and are not answered", async () => {
    assert.ok(FEATURE_LEVEL >= UNANSWERED_ACK_LEVEL);
    const ann = await newUser(t.url, "ann");
    const ben = await newUser(t.url, "ben");
    const token = await deviceToken(ben);
    await ben.close();
    try {
      for (const text of ["one", "two", "three"]) await ann.sendText("ben", text);
    } finally {
      await ann.close();
    }
    const s = await rawSocket(t.url);
    try {
      const auth = await s.auth(token);
      assert.equal((auth.result as { featureLevel: number }).featureLevel, FEATURE_LEVEL);
      const pushed: Frame[] = [];
      for (let f = await s.next(); f.type !== "synced"; f = await s.next()) pushed.push(f);
      // The Welcome, the three texts and whatever the chat's set-up sent besides.
      assert.equal(pushed[0]?.kind, "welcome");
      assert.ok(
        pushed.filter((f) => f.kind === "message").length >= 3,
        JSON.stringify(pushed.map((f) => f.kind)),
      );
      const last = Math.max(...pushed.map((f) => f.seq as number));
      s.send(JSON.stringify({ type: "ack", upTo: last }));
      s.send(JSON.stringify({ type: "ping", id: 77 }));
      // The ping is answered at once, an ack only after its store write: wait past that for anything else.
      const answers: Frame[] = [await s.next()];
      await new Promise((r) => setTimeout(r, 500));
      for (;;) {
        const more = await s.next(1).catch(() => undefined);
        if (!more) break;
        answers.push(more);
      }
      assert.deepEqual(
        answers.map((f) => [f.type, f.re]),
        [["result", 77]],
      );
    } finally {
      s.close();
    }
    // Reconnecting gets nothing again: the unanswered ack removed every entry.
    const again = await rawSocket(t.url);
    try {
      await again.auth(token);
      const first = await again.next();
      assert.equal(first.type, "synced", `redelivered: ${JSON.stringify(first)}`);
    } finally {
      again.close();
    }
  });

  it("before authentication are refused with an error all the same", async () => {
    const s = await rawSocket(t.url);
    try {
      s.send(JSON.stringify({ type: "ack", upTo: 5 }));
      const f = await s.next();
      assert.equal(f.type, "error");
      assert.equal(f.code, "unauthenticated");
      assert.equal(f.re, undefined);
    } finally {
      s.close();
    }
  });

  it("that are malformed get a bad-frame error", async () => {
    const s = await rawSocket(t.url);
    try {
      for (const bad of [{ type: "ack", upTo: -1 }, { type: "ack" }, { type: "ack", upTo: 1, extra: true }]) {
        s.send(JSON.stringify(bad));
        const f = await s.next();
        assert.equal(f.code, "bad-frame", JSON.stringify(bad));
      }
    } finally {
      s.close();
    }
  });
});
