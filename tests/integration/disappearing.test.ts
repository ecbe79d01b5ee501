import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkError, type SoriClient } from "@sori/sdk";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  directChatSeenBy,
  newDevice,
  receive,
  reopen,
  storedText,
  suiteServer,
  twoUsers,
  waitFor,
} from "../helpers.ts";

/** Queued messages that carry an expiry (the server sees only that number). */
function expiringRows(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, "sori.db"), { readOnly: true });
  try {
    return Number(
      (db.prepare("SELECT COUNT(*) AS n FROM messages WHERE expires_at IS NOT NULL").get() as { n: number })
        .n,
    );
  } finally {
    db.close();
  }
}

describe("disappearing messages", () => {
  const t = suiteServer();

  it("an expired message is gone from every device's store and from the server's database", async () => {
    const [ada, bo] = await twoUsers(t.url, "ada", "boa");
    let bo2: SoriClient | undefined = await newDevice(t.url, bo);
    try {
      const chat = await directChatSeenBy(ada, "boa", bo);
      await bo2.close(); // offline: its copy waits in the server's queue
      await ada.setTimer(chat.id, 2);
      const announced = await waitFor(
        () => bo.history(chat.id),
        (h) => h.some((m) => m.system?.event === "timer"),
      );
      assert.deepEqual(announced.find((m) => m.kind === "system")?.system, {
        event: "timer",
        seconds: 2,
        by: "ada",
      });
      assert.equal((await bo.findChat(chat.id))?.timer, 2);
      await assert.rejects(
        ada.setTimer(chat.id, -1),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );

      const removed: string[] = [];
      bo.on("message-removed", (m) => removed.push(m.id));
      const sent = await ada.sendText(chat.id, "self-destructing secret");
      assert.equal(sent.expiresIn, 2);
      const [got] = await receive(bo, 1);
      assert.equal(got?.expiresIn, 2);
      assert.equal(got?.expiresAt, undefined, "the timer starts when it is read");
      assert.equal(expiringRows(t.dataDir), 1, "the offline device's copy is queued with its expiry");
      await bo.markRead(chat.id);
      assert.ok((await bo.history(chat.id)).find((m) => m.id === sent.id)?.expiresAt);

      await waitFor(
        async () => (await storedText(bo)) + (await storedText(ada)),
        (text) => !text.includes("self-destructing"),
      );
      assert.deepEqual(removed, [sent.id]);
      assert.equal(
        (await bo.history(chat.id)).some((m) => m.id === sent.id),
        false,
      );
      // The offline device never fetched it: the server dropped its copy when the timer ran out.
      await waitFor(
        async () => expiringRows(t.dataDir),
        (n) => n === 0,
      );
      bo2 = await reopen(bo2);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await bo2.takeReceived(), []);

      // Timer off: messages stay.
      await bo.setTimer(chat.id, 0);
      await waitFor(
        () => ada.findChat(chat.id),
        (c) => c?.timer === 0,
      );
      const kept = await ada.sendText(chat.id, "this one stays");
      assert.equal(kept.expiresIn, undefined);
    } finally {
      await Promise.all([ada.close(), bo.close(), bo2?.close()]);
    }
  });
});
