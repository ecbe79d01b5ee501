import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StoredMessage } from "./chat-store.ts";
import { applyReaction, changePatch, isReactionEmoji } from "./message-features.ts";

const message: StoredMessage = {
  id: "m1",
  chat: "c",
  from: "ann",
  fromUserId: "ann-id",
  kind: "text",
  text: "hello",
  sentAt: 1,
  outgoing: false,
  status: "delivered",
  order: 1,
};

describe("message changes", () => {
  it("only the author may edit or delete; anyone may react", () => {
    assert.equal(
      changePatch(message, "mallory-id", { v: 1, type: "edit", id: "x", target: "m1", text: "pwned" }),
      "forged",
    );
    assert.equal(
      changePatch(message, "mallory-id", { v: 1, type: "delete", id: "x", target: "m1" }),
      "forged",
    );
    assert.deepEqual(
      changePatch(message, "ann-id", { v: 1, type: "edit", id: "x", target: "m1", text: "hi" }),
      {
        text: "hi",
        edited: true,
      },
    );
    const deleted = changePatch(message, "ann-id", { v: 1, type: "delete", id: "x", target: "m1" });
    assert.ok(typeof deleted === "function");
    const gone = deleted({ ...message, reactions: { "👍": ["bob-id"] }, order: 1 });
    assert.equal(gone.deleted, true);
    assert.equal(gone.text, "");
    assert.equal(gone.kind, message.kind);
    assert.equal(gone.reactions, undefined);
    assert.deepEqual(
      changePatch(message, "bob-id", {
        v: 1,
        type: "reaction",
        id: "x",
        target: "m1",
        emoji: "🎉",
        on: true,
      }),
      { reactions: { "🎉": ["bob-id"] } },
    );
    // A deleted message takes no more edits or reactions.
    const tomb = { ...message, deleted: true, text: "" };
    assert.equal(
      changePatch(tomb, "ann-id", { v: 1, type: "edit", id: "x", target: "m1", text: "back" }),
      undefined,
    );
    assert.equal(
      changePatch(tomb, "bob-id", { v: 1, type: "reaction", id: "x", target: "m1", emoji: "🎉", on: true }),
      undefined,
    );
  });

  it("reactions toggle per user and emoji", () => {
    const one = applyReaction(undefined, "👍", "a", true);
    const two = applyReaction(one, "👍", "b", true);
    assert.deepEqual(two, { "👍": ["a", "b"] });
    assert.deepEqual(applyReaction(applyReaction(two, "👍", "a", false), "👍", "b", false), {});
    assert.equal(isReactionEmoji("👍🏽"), true);
    assert.equal(isReactionEmoji("🇰🇷"), true);
    assert.equal(isReactionEmoji("ok"), false);
    assert.equal(isReactionEmoji(""), false);
  });
});
