// What a Sori sender sees of a message to a bridged identity: "delivered" when the gateway says the
// other network's client has it (manual delivery receipts, confirmDelivered), "failed" with the
// network's reason when the gateway could not pass it on (reportUndelivered). Only a bridged identity
// in the chat may say the latter, and only of the sender's own messages there.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import { bridgedIdentity, newUser, receive, suiteServer, waitFor } from "../helpers.ts";

describe("delivery to bridged identities, as their gateway reports it", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let gateway: SoriClient;
  let alice: SoriClient;
  let bob: SoriClient;
  let juliet: SoriClient;
  const statuses: { id: string; status: string }[] = [];

  const aliceMessage = (chat: string, id: string): Promise<ChatMessage | undefined> =>
    alice.message(chat, id);

  before(async () => {
    gateway = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    bob = await newUser(server.url, "bob");
    juliet = await bridgedIdentity(gateway, "xmpp:juliet@xmpp.example.org");
    alice.on("message-status", (s) => statuses.push({ id: s.id, status: s.status }));
  });
  after(async () => {
    for (const c of [juliet, gateway, alice, bob]) await c?.close();
  });

  it("turns the sender's message failed with the reason, and a later receipt does not undo it", async () => {
    const sent = await alice.sendText("xmpp:juliet@xmpp.example.org", "are you there?");
    const [got] = await receive(juliet, 1);
    assert.equal(got!.id, sent.id);
    // The gateway's device got it (its receipt may make it "delivered" first) ...
    await waitFor(
      () => aliceMessage(sent.chat, sent.id),
      (m) => m?.status === "delivered",
      10_000,
    );
    // ... but the XMPP server refused it.
    await juliet.reportUndelivered(got!.chat, [got!.id, got!.id, "no-such-message"], " user not found ");
    const failed = await waitFor(
      () => aliceMessage(sent.chat, sent.id),
      (m) => m?.status === "failed",
      10_000,
    );
    assert.deepEqual(
      failed!.undelivered?.map(({ username, reason }) => ({ username, reason })),
      [{ username: "xmpp:juliet@xmpp.example.org", reason: "user not found" }],
    );
    assert.ok(statuses.some((s) => s.id === sent.id && s.status === "failed"));
    // A receipt from the same member afterwards (another run of the gateway) leaves it failed.
    await juliet.markRead(got!.chat);
    await juliet.sendText(got!.chat, "a later message");
    await receive(alice, 1);
    assert.equal((await aliceMessage(sent.chat, sent.id))?.status, "failed");
  });

  it("with manual delivery receipts, says delivered only when confirmed, for messages received", async () => {
    const mercutio = await bridgedIdentity(gateway, "xmpp:mercutio@xmpp.example.org");
    try {
      await mercutio.setSettings({ deliveryReceipts: "manual" });
      const first = await alice.sendText("xmpp:mercutio@xmpp.example.org", "one");
      const second = await alice.sendText("xmpp:mercutio@xmpp.example.org", "two");
      const got = await receive(mercutio, 2);
      // Processed well before this; an automatic receipt would have arrived.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await aliceMessage(first.chat, first.id))?.status, "sent");
      await mercutio.confirmDelivered(got[0]!.chat, [first.id, "not-one-of-mine"]);
      await waitFor(
        () => aliceMessage(first.chat, first.id),
        (m) => m?.status === "delivered",
        10_000,
      );
      assert.equal((await aliceMessage(second.chat, second.id))?.status, "sent");
      await assert.rejects(mercutio.confirmDelivered("no-such-chat", [second.id]), { code: "unknown-chat" });
    } finally {
      await mercutio.close();
    }
  });

  it("is ignored from a Sori user, and for messages of others", async () => {
    const toBob = await alice.sendText("bob", "hi bob");
    const [atBob] = await receive(bob, 1);
    await bob.reportUndelivered(atBob!.chat, [atBob!.id], "pretending to be a gateway");
    // Bob's own message, reported undelivered by Juliet in a chat she is not in: nothing changes.
    const fromBob = await bob.sendText("alice", "hello alice");
    await receive(alice, 1);
    await bob.sendText("alice", "barrier");
    await receive(alice, 1);
    const m = await aliceMessage(toBob.chat, toBob.id);
    assert.equal(m?.undelivered, undefined);
    assert.notEqual(m?.status, "failed");
    assert.equal((await alice.message(fromBob.chat, fromBob.id))?.undelivered, undefined);
    await assert.rejects(juliet.reportUndelivered(toBob.chat, [toBob.id], "x"), { code: "unknown-chat" });
  });

  it("in a group, fails only once every other member's gateway refused it", async () => {
    const romeo = await bridgedIdentity(gateway, "xmpp:romeo@xmpp.example.org");
    try {
      const group = await alice.createGroup("verona", ["bob", "xmpp:romeo@xmpp.example.org"]);
      const sent = await alice.sendText(group.id, "to the group");
      const [atRomeo] = await waitFor(
        async () => (await romeo.takeReceived()).filter((m) => m.id === sent.id),
        (l) => l.length > 0,
        15_000,
      );
      await romeo.reportUndelivered(atRomeo!.chat, [sent.id], "remote-server-not-found");
      const noted = await waitFor(
        () => aliceMessage(group.id, sent.id),
        (m) => (m?.undelivered?.length ?? 0) > 0,
        10_000,
      );
      assert.equal(noted!.undelivered![0]!.reason, "remote-server-not-found");
      assert.notEqual(noted!.status, "failed", "Bob is a Sori user: the message reached someone");
    } finally {
      await romeo.close();
    }
  });
});
