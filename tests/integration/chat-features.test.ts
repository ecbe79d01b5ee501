import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatMessage, type MessageStatus, SdkError } from "@sori/sdk";
import { newUser, receive, suiteServer, twoUsers, waitFor as waitForBounded } from "../helpers.ts";

/** These tests have always polled every 25 ms. */
const waitFor = <T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> =>
  waitForBounded(get, ok, 10_000, 25);

describe("chat features through the SDK", () => {
  const t = suiteServer(["--max-message-bytes", "2048"]);

  it("a message goes sending → sent → delivered, and stickers arrive as stickers", async () => {
    const [ada, boris] = await twoUsers(t.url, "ada", "boris");
    try {
      const chat = await ada.startDirectChat("boris");
      const seen: MessageStatus[] = [];
      ada.on("message", (m) => seen.push(m.status));
      ada.on("message-status", (s) => seen.push(s.status));
      const sent = await ada.sendText(chat.id, "did you get this?");
      assert.equal(sent.status, "sent");
      await receive(boris, 1);
      await waitFor(
        () => ada.history(chat.id),
        (hist) => hist.at(-1)?.status === "delivered",
      );
      assert.deepEqual(seen, ["sending", "sent", "delivered"]);

      await ada.sendSticker(chat.id, { pack: "sori", id: "hello" });
      const [sticker] = await receive(boris, 1);
      assert.equal(sticker?.kind, "sticker");
      assert.deepEqual(sticker?.sticker, { pack: "sori", id: "hello" });
      assert.equal(sticker?.text, "");
      await assert.rejects(
        ada.sendSticker(chat.id, { pack: "../x", id: "y" }),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );
    } finally {
      await Promise.all([ada.close(), boris.close()]);
    }
  });

  it("counts unread messages, shows the last one, and pages back through history", async () => {
    const [cyrus, dina] = await twoUsers(t.url, "cyrus", "dina");
    try {
      const chat = await cyrus.startDirectChat("dina");
      for (let i = 0; i < 7; i++) await cyrus.sendText(chat.id, `n${i}`);
      await receive(dina, 7);
      const summary = await waitFor(
        () => dina.findChat(chat.id),
        (c) => c?.unread === 7,
      );
      assert.equal(summary?.lastMessage?.text, "n6");
      assert.equal(summary?.name, "cyrus");
      await dina.markRead(chat.id);
      assert.equal((await dina.findChat(chat.id))?.unread, 0);
      const page1 = await dina.history(chat.id, { limit: 3 });
      assert.deepEqual(
        page1.map((m) => m.text),
        ["n4", "n5", "n6"],
      );
      const page2 = await dina.history(chat.id, { limit: 3, before: page1[0]!.order });
      assert.deepEqual(
        page2.map((m) => m.text),
        ["n1", "n2", "n3"],
      );
      const page3 = await dina.history(chat.id, { limit: 3, before: page2[0]!.order });
      assert.deepEqual(
        page3.map((m) => m.text),
        ["n0"],
      );
    } finally {
      await Promise.all([cyrus.close(), dina.close()]);
    }
  });

  it("a failed message stays in history as failed and can be retried", async () => {
    const [edgar, flo] = await twoUsers(t.url, "edgar", "flo");
    try {
      const chat = await edgar.startDirectChat("flo");
      const long = "x".repeat(3000); // over this server's 2048-byte message limit once encrypted
      await assert.rejects(
        edgar.sendText(chat.id, long),
        (e: unknown) => e instanceof SdkError && e.code === "too-large",
      );
      const failed = (await edgar.history(chat.id)).at(-1) as ChatMessage;
      assert.equal(failed.status, "failed");
      await t.restart(["--max-message-bytes", "65536"]);
      const retried = await edgar.retry(chat.id, failed.id);
      assert.equal(retried.status, "sent");
      const [got] = await receive(flo, 1);
      assert.equal(got?.text, long);
      assert.equal(got?.id, failed.id, "the retry keeps the message id");
      await t.restart(["--max-message-bytes", "2048"]);
    } finally {
      await Promise.all([edgar.close(), flo.close()]);
    }
  });

  it("renames a group, shares profiles, and lets a member leave", async () => {
    const [gil, hugo] = await twoUsers(t.url, "gil", "hugo");
    const ivy = await newUser(t.url, "ivy");
    try {
      await gil.setProfile({ displayName: "길동", avatar: new Uint8Array([1, 2, 3]) });
      const group = await gil.createGroup("book club", ["hugo", "ivy"]);
      await waitFor(
        () => hugo.findChat(group.id),
        (c) => c?.name === "book club",
      );
      assert.deepEqual(
        await waitFor(
          () => hugo.profile(gil.userId),
          (p) => p.displayName !== null,
        ),
        { displayName: "길동", avatar: new Uint8Array([1, 2, 3]) },
      );
      await hugo.renameGroup(group.id, "reading circle");
      await waitFor(
        () => ivy.findChat(group.id),
        (c) => c?.name === "reading circle",
      );
      await waitFor(
        () => gil.findChat(group.id),
        (c) => c?.name === "reading circle",
      );
      await assert.rejects(
        gil.setProfile({ avatar: new Uint8Array(50_000) }),
        (e: unknown) => e instanceof SdkError && e.code === "too-large",
      );

      await ivy.leaveGroup(group.id);
      assert.equal((await ivy.findChat(group.id))?.active, false);
      // The others' devices remove ivy; what they send next does not reach her.
      await waitFor(
        () => gil.findChat(group.id),
        (c) => c?.members.join() === "gil,hugo",
      );
      await gil.sendText(group.id, "after ivy left");
      assert.equal((await receive(hugo, 1))[0]?.text, "after ivy left");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        (await ivy.takeReceived()).map((m) => m.text),
        [],
      );
      assert.equal((await ivy.findUser("HUGO"))?.username, "hugo");
      assert.equal(await ivy.findUser("nobody-at-all"), undefined);
    } finally {
      await Promise.all([gil.close(), hugo.close(), ivy.close()]);
    }
  });
});
