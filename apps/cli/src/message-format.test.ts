import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatMessage } from "@sori/sdk";
import { messageJson, messageLine } from "./message-format.ts";

const sent: ChatMessage = {
  id: "m1",
  chat: "c1",
  from: "alice",
  fromUserId: "u1",
  kind: "text",
  text: "are you there?",
  sentAt: Date.UTC(2026, 11, 4, 9, 30),
  outgoing: true,
  status: "failed",
  order: 1,
  undelivered: [
    { userId: "u2", username: "xmpp:nobody@xmpp.test", reason: "this address does not exist\u001b[2J" },
  ],
};

describe("message lines", () => {
  it("say which member's gateway could not pass a message on and why, escaped", () => {
    assert.equal(
      messageLine(sent),
      "2026-12-04T09:30:00.000Z alice: are you there? (not delivered to xmpp:nobody@xmpp.test: this address does not exist\\x1b[2J)",
    );
    assert.deepEqual(JSON.parse(messageJson(sent)).undelivered, [
      { username: "xmpp:nobody@xmpp.test", reason: "this address does not exist\u001b[2J" },
    ]);
    const plain = { ...sent, status: "delivered", undelivered: undefined } as ChatMessage;
    assert.equal(messageLine(plain), "2026-12-04T09:30:00.000Z alice: are you there?");
    assert.equal(JSON.parse(messageJson(plain)).undelivered, undefined);
  });
});
