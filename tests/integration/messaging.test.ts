import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newUser, receive, startTestServer, type TestServer } from "../helpers.ts";

describe("messaging through a real server", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.stop();
  });

  it("two users chat both ways", async () => {
    const alice = await newUser(t.url, "alice");
    const bob = await newUser(t.url, "bob");
    try {
      const sent = await alice.sendText("bob", "hello bob");
      const [m1] = await receive(bob, 1);
      assert.equal(m1?.text, "hello bob");
      assert.equal(m1?.from, "alice");
      assert.equal(m1?.chat, sent.chat);
      await bob.sendText(m1!.chat, "hi alice");
      const [m2] = await receive(alice, 1);
      assert.equal(m2?.text, "hi alice");
      assert.equal(m2?.from, "bob");
      const chats = await bob.chats();
      assert.equal(chats.length, 1);
      assert.equal(chats[0]?.name, "alice");
      assert.deepEqual(chats[0]?.members, ["alice", "bob"]);
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
