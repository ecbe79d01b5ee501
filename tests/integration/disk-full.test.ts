import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkError } from "@sori/sdk";
import { newUser, type RawAccount, receive, registerRaw, suiteServer, type TestServer } from "../helpers.ts";
import { authedSocket, type Frame, type RawSocket, rawSocket } from "../raw-socket.ts";

async function account(t: TestServer, name: string): Promise<{ a: RawAccount; s: RawSocket }> {
  const a = await registerRaw(t.url, name);
  return { a, s: await authedSocket(t.url, a.token) };
}

/**
 * "Nothing lost" when storage fails: with the database capped at 1 MB (`--max-db-mb`, SQLite's
 * max_page_count, which fails writes exactly as a full disk does), new messages are refused with a typed
 * error, nothing already accepted is dropped, and sending works again once space is freed.
 */
describe("a full disk", () => {
  const t = suiteServer(["--max-db-mb", "1"]);

  it("refuses new messages with storage-unavailable, keeps the accepted ones and recovers", async () => {
    const alice = await account(t, "alice");
    const bob = await account(t, "bob");
    bob.s.close();
    const G = "GFGFGFGFGFGFGFGFGFGFGF";
    const create = await alice.s.call({
      type: "group.create",
      groupId: G,
      epoch: 1,
      members: [bob.a.deviceId],
      welcome: "AAAA",
    });
    assert.equal(create.type, "result");
    const data = (n: number): string => Buffer.alloc(60_000, n).toString("base64");
    const send = (n: number): Promise<Frame> =>
      alice.s.call({
        type: "send",
        groupId: G,
        epoch: 1,
        messageId: `MF${String(n).padStart(20, "0")}`,
        data: data(n),
      });
    const accepted: string[] = [];
    let refused: Frame | undefined;
    for (let n = 0; n < 40 && !refused; n++) {
      const r = await send(n);
      if (r.type === "result") accepted.push((r.result as { messageId: string }).messageId);
      else refused = r;
    }
    assert.ok(refused, "the cap was reached");
    assert.equal(refused.code, "storage-unavailable");
    assert.match(String(refused.message), /full/);
    assert.ok(accepted.length >= 5, `accepted ${accepted.length} first`);
    // The server stays up.
    assert.equal((await alice.s.call({ type: "ping" })).type, "result");
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);

    // bob comes online: everything accepted is delivered, in order, and his acks free the space.
    const b = await rawSocket(t.url);
    try {
      assert.equal((await b.auth(bob.a.token)).type, "result");
      const got: string[] = [];
      let last = 0;
      for (let f = await b.next(); f.type !== "synced"; f = await b.next()) {
        if (f.kind === "message") got.push(String(f.messageId));
        last = Number(f.seq);
      }
      assert.deepEqual(got, accepted);
      assert.equal((await b.call({ type: "ack", upTo: last })).type, "result");
    } finally {
      b.close();
    }
    const again = await send(999);
    assert.equal(again.type, "result", `sending works again: ${JSON.stringify(again).slice(0, 200)}`);
    alice.s.close();
  });

  it("an SDK send refused for a full disk fails with storage-unavailable and succeeds on retry", async () => {
    const carl = await newUser(t.url, "carl");
    const dana = await newUser(t.url, "dana");
    const filler = await account(t, "filler");
    const sink = await account(t, "sink");
    try {
      const chat = await carl.startDirectChat("dana");
      await carl.sendText(chat.id, "before the disk filled up");
      assert.equal((await receive(dana, 1))[0]?.text, "before the disk filled up");
      // Fill the database with messages queued for an offline device.
      sink.s.close();
      const G = "GSGSGSGSGSGSGSGSGSGSGS";
      await filler.s.call({
        type: "group.create",
        groupId: G,
        epoch: 1,
        members: [sink.a.deviceId],
        welcome: "AAAA",
      });
      // Large messages until one is refused, then smaller ones, so no gap is left that a short one fits.
      let n = 0;
      for (const size of [60_000, 8000, 1000, 100]) {
        for (let k = 0; k < 50; k++, n++) {
          const r = await filler.s.call({
            type: "send",
            groupId: G,
            epoch: 1,
            messageId: `MS${String(n).padStart(20, "0")}`,
            data: Buffer.alloc(size, n).toString("base64"),
          });
          if (r.type === "error") {
            assert.equal(r.code, "storage-unavailable");
            break;
          }
        }
      }
      await assert.rejects(
        carl.sendText(chat.id, "while the disk is full"),
        (e: unknown) => e instanceof SdkError && e.code === "storage-unavailable",
      );
      const failed = (await carl.history(chat.id)).find((m) => m.text === "while the disk is full");
      assert.equal(failed?.status, "failed");

      // The offline device drains its queue, which frees the space; the retry goes through, once.
      const b = await rawSocket(t.url);
      try {
        assert.equal((await b.auth(sink.a.token)).type, "result");
        let last = 0;
        for (let f = await b.next(); f.type !== "synced"; f = await b.next()) last = Number(f.seq);
        assert.equal((await b.call({ type: "ack", upTo: last })).type, "result");
      } finally {
        b.close();
      }
      const sent = await carl.retry(chat.id, failed!.id);
      assert.equal(sent.status, "sent");
      assert.deepEqual(
        (await receive(dana, 1)).map((m) => m.text),
        ["while the disk is full"],
      );
    } finally {
      filler.s.close();
      await Promise.all([carl.close(), dana.close()]);
    }
  });
});
