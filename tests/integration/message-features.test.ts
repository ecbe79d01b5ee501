import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatMessage, SdkError, type SoriClient } from "@sori/sdk";
import {
  directChatSeenBy,
  newDevice,
  newUser,
  receive,
  suiteServer,
  twoUsers,
  waitFor as waitForBounded,
} from "../helpers.ts";

/** These tests have always polled every 25 ms. */
const waitFor = <T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> =>
  waitForBounded(get, ok, 10_000, 25);

const find = async (c: SoriClient, chat: string, id: string): Promise<ChatMessage | undefined> =>
  (await c.history(chat)).find((m) => m.id === id);

describe("message features through the SDK", () => {
  const t = suiteServer();

  it("replies, reactions, edits, delete for everyone and forwarding reach every device", async () => {
    const [ann, ben] = await twoUsers(t.url, "ann", "ben");
    const ben2 = await newDevice(t.url, ben);
    const cal = await newUser(t.url, "cal");
    try {
      const chat = await ann.startDirectChat("ben");
      const first = await ann.sendText(chat.id, "lunch at noon?");
      await receive(ben, 1);
      await receive(ben2, 1);

      const reply = await ben.sendText(chat.id, "yes!", { replyTo: first.id });
      assert.equal(reply.replyTo?.text, "lunch at noon?");
      const [got] = await receive(ann, 1);
      assert.deepEqual(got?.replyTo, {
        id: first.id,
        fromUserId: ann.userId,
        from: "ann",
        text: "lunch at noon?",
      });
      await assert.rejects(
        ben.sendText(chat.id, "x", { replyTo: "nope" }),
        (e: unknown) => e instanceof SdkError && e.code === "not-found",
      );

      // Reactions toggle, and several people's reactions add up.
      assert.equal(await ben.react(chat.id, first.id, "👍"), true);
      assert.equal(await ann.react(chat.id, first.id, "👍"), true);
      await waitFor(
        () => find(ben2, chat.id, first.id),
        (m) => m?.reactions?.["👍"]?.length === 2,
      );
      assert.equal(await ben.react(chat.id, first.id, "👍"), false);
      await waitFor(
        () => find(ann, chat.id, first.id),
        (m) => JSON.stringify(m?.reactions) === JSON.stringify({ "👍": [ann.userId] }),
      );
      await assert.rejects(
        ann.react(chat.id, first.id, "hello"),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );

      // Edits show as edited; only the author may edit or delete.
      const updates: ChatMessage[] = [];
      ben.on("message-updated", (m) => updates.push(m));
      await ann.editMessage(chat.id, first.id, "lunch at one?");
      for (const c of [ben, ben2])
        await waitFor(
          () => find(c, chat.id, first.id),
          (m) => m?.text === "lunch at one?" && m.edited === true,
        );
      assert.ok(updates.some((m) => m.id === first.id && m.edited));
      await assert.rejects(
        ben.editMessage(chat.id, first.id, "mine now"),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );
      await assert.rejects(
        ben.deleteForEveryone(chat.id, first.id),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );

      // Delete for everyone: the text is gone on every device, a tombstone stays.
      const secret = await ann.sendText(chat.id, "my pin is zebra-quartz");
      await receive(ben, 1);
      await receive(ben2, 1);
      await ann.deleteForEveryone(chat.id, secret.id);
      for (const c of [ann, ben, ben2]) {
        const m = await waitFor(
          () => find(c, chat.id, secret.id),
          (x) => x?.deleted === true,
        );
        assert.equal(m?.text, "");
      }
      for (const c of [ann, ben, ben2]) {
        const all = JSON.stringify(await c.history(chat.id));
        assert.ok(!all.includes("zebra-quartz"), "the deleted text is nowhere in the history");
      }
      assert.deepEqual(await ben.search("zebra"), []);

      // Forwarding copies the message into another chat, marked as forwarded.
      const other = await ben.startDirectChat("cal");
      const fwd = await ben.forward(chat.id, reply.id, other.id);
      assert.equal(fwd.forwarded, true);
      const [atCal] = await receive(cal, 1);
      assert.equal(atCal?.text, "yes!");
      assert.equal(atCal?.forwarded, true);

      // Local search finds messages in any chat, newest first.
      const hits = await ben.search("LUNCH");
      assert.deepEqual(
        hits.map((m) => m.text),
        ["lunch at one?"],
      );
      assert.equal((await ben.search("yes", { chat: other.id })).length, 1);
    } finally {
      await Promise.all([ann.close(), ben.close(), ben2.close(), cal.close()]);
    }
  });

  it("markRead up to a message reads that one and the ones before, not those after", async () => {
    const [fay, gus] = await twoUsers(t.url, "fay", "gus");
    try {
      const chat = await directChatSeenBy(fay, "gus", gus);
      const m1 = await fay.sendText(chat.id, "one");
      const m2 = await fay.sendText(chat.id, "two");
      const m3 = await fay.sendText(chat.id, "three");
      await receive(gus, 3);
      await gus.markRead(chat.id, { upTo: m2.id });
      assert.equal((await gus.findChat(chat.id))?.unread, 1);
      await waitFor(
        () => find(fay, chat.id, m2.id),
        (m) => m?.read === true,
      );
      assert.equal((await find(fay, chat.id, m1.id))?.read, true);
      // A message sent after the receipt proves the receipt has been handled by now.
      await gus.sendText(chat.id, "marker");
      await receive(fay, 1);
      assert.equal((await find(fay, chat.id, m3.id))?.read, undefined);
      await assert.rejects(gus.markRead(chat.id, { upTo: "no-such-message" }), (e: unknown) => {
        return e instanceof SdkError && e.code === "not-found";
      });
      await gus.markRead(chat.id);
      assert.equal((await gus.findChat(chat.id))?.unread, 0);
      await waitFor(
        () => find(fay, chat.id, m3.id),
        (m) => m?.read === true,
      );
    } finally {
      await Promise.all([fay.close(), gus.close()]);
    }
  });

  it("read receipts and typing indicators are sent only when switched on", async () => {
    const [dee, eli] = await twoUsers(t.url, "dee", "eli");
    try {
      const chat = await directChatSeenBy(dee, "eli", eli);
      const typing: boolean[] = [];
      dee.on("typing", (x) => {
        if (x.chat === chat.id && x.username === "eli") typing.push(x.typing);
      });
      await eli.setTyping(chat.id, true);
      await eli.setTyping(chat.id, false);
      await waitFor(
        async () => typing,
        (x) => x.length === 2,
      );
      assert.deepEqual(typing, [true, false]);

      // Typing, sending (which ends it without a "stopped"), and typing again at once: announced again.
      await eli.setTyping(chat.id, true);
      await eli.sendText(chat.id, "sent while typing");
      await eli.setTyping(chat.id, true);
      await waitFor(
        async () => typing,
        (x) => x.length === 4,
      );
      assert.deepEqual(typing, [true, false, true, true]);
      await receive(dee, 1);
      typing.length = 2;

      const m1 = await dee.sendText(chat.id, "read me");
      await receive(eli, 1);
      await eli.markRead(chat.id);
      await waitFor(
        () => find(dee, chat.id, m1.id),
        (m) => m?.read === true,
      );

      await eli.setSettings({ readReceipts: false, typingIndicators: false });
      assert.deepEqual(await eli.settings(), {
        readReceipts: false,
        typingIndicators: false,
        deliveryReceipts: "automatic",
      });
      await eli.setTyping(chat.id, true);
      const m2 = await dee.sendText(chat.id, "read me too");
      await receive(eli, 1);
      await eli.markRead(chat.id);
      // A message sent after the last setting proves the earlier ones would have arrived by now.
      await eli.sendText(chat.id, "marker");
      await receive(dee, 1);
      const m2AtDee = await find(dee, chat.id, m2.id);
      assert.equal(m2AtDee?.status, "delivered");
      assert.equal(m2AtDee?.read, undefined);
      assert.deepEqual(typing, [true, false]);
    } finally {
      await Promise.all([dee.close(), eli.close()]);
    }
  });
});
