import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CryptoError, decodeGroup, processMessage } from "@sori/crypto";
import { MemoryStorage, SoriClient } from "@sori/sdk";
import { SqliteStore } from "@sori/server";
import {
  newDevice,
  newUser,
  PASSWORD,
  queuedCiphertexts,
  receive,
  reopen,
  storedGroupState,
  suiteServer,
} from "../helpers.ts";

describe("messaging through a real server", () => {
  const t = suiteServer();
  const distinctive = `zebra-quokka-${Math.random().toString(36).slice(2)}-plaintext`;

  it("two users chat both ways", async () => {
    const alice = await newUser(t.url, "alice");
    const bob = await newUser(t.url, "bob");
    try {
      const sent = await alice.sendText("bob", `hello bob ${distinctive}`);
      const [m1] = await receive(bob, 1);
      assert.equal(m1?.text, `hello bob ${distinctive}`);
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
      // Sending to the username again reuses the same chat.
      const again = await alice.sendText("bob", "same chat");
      assert.equal(again.chat, sent.chat);
      assert.equal((await receive(bob, 1))[0]?.text, "same chat");
      assert.deepEqual(
        (await bob.history(sent.chat)).map((m) => [m.from, m.text]),
        [
          ["alice", `hello bob ${distinctive}`],
          ["bob", "hi alice"],
          ["alice", "same chat"],
        ],
      );
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it("a third user joins a group, and a removed member cannot decrypt what is sent afterwards", async () => {
    const dave = await newUser(t.url, "dave");
    const erin = await newUser(t.url, "erin");
    const frank = await newUser(t.url, "frank");
    try {
      const group = await dave.createGroup("hikers", ["erin"]);
      await dave.sendText(group.id, "first");
      assert.equal((await receive(erin, 1))[0]?.text, "first");

      await dave.addMember(group.id, "frank");
      await dave.sendText(group.id, "welcome frank");
      const [toFrank] = await receive(frank, 1);
      assert.equal(toFrank?.text, "welcome frank");
      assert.equal(toFrank?.from, "dave");
      assert.equal((await receive(erin, 1))[0]?.text, "welcome frank");
      const frankChat = (await frank.chats()).find((c) => c.id === group.id);
      assert.equal(frankChat?.name, "hikers");
      assert.deepEqual(frankChat?.members, ["dave", "erin", "frank"]);

      await frank.sendText(group.id, "thanks from frank");
      assert.equal((await receive(dave, 1))[0]?.text, "thanks from frank");
      assert.equal((await receive(erin, 1))[0]?.text, "thanks from frank");

      // Keep frank's keys from before the removal, as a malicious removed member would.
      const frankGroupBefore = await storedGroupState(frank, group.id);

      await erin.removeMember(group.id, "frank");
      await erin.close();
      await dave.close();
      const afterText = `after removal ${distinctive}`;
      const dave2 = await reopen(dave);
      await dave2.sendText(group.id, afterText);
      await dave2.close();

      // frank's device learns it was removed and receives nothing more.
      await waitFor(async () => (await frank.chats()).find((c) => c.id === group.id)?.active === false);
      assert.deepEqual(await frank.takeReceived(), []);

      // Even given the ciphertext (queued for erin, offline), frank's old group state cannot open it.
      const ciphertexts = queuedCiphertexts(t.dataDir, group.id);
      assert.ok(ciphertexts.length >= 1, "the message is queued for the offline member");
      for (const c of ciphertexts) {
        await assert.rejects(
          processMessage(decodeGroup(frankGroupBefore), c, async () => true),
          (e: unknown) => e instanceof CryptoError,
        );
      }
      const erin2 = await reopen(erin);
      assert.equal((await receive(erin2, 1))[0]?.text, afterText);
      await erin2.close();
    } finally {
      await frank.close();
      await erin.close();
      await dave.close();
    }
  });

  it("a user's second device receives what is sent after it logged in", async () => {
    const gina = await newUser(t.url, "gina");
    const hank = await newUser(t.url, "hank");
    try {
      const sent = await gina.sendText("hank", "before the second device");
      await receive(hank, 1);
      // The first device approves the second, then goes offline.
      const hank2 = await newDevice(t.url, hank);
      await hank.close();
      try {
        await gina.sendText(sent.chat, "after the second device");
        const [m] = await receive(hank2, 1);
        assert.equal(m?.text, "after the second device");
        assert.equal(m?.from, "gina");
        // The first device gets it too when it comes back.
        const hank1 = await reopen(hank);
        assert.deepEqual(
          (await receive(hank1, 1)).map((x) => x.text),
          ["after the second device"],
        );
        // The new device can answer in the chat it was added to.
        await hank2.sendText(sent.chat, "from hank's second device");
        assert.equal((await receive(gina, 1))[0]?.text, "from hank's second device");
        const ownEcho = await waitFor(async () =>
          (await hank1.history(sent.chat)).some((x) => x.text === "from hank's second device"),
        );
        assert.ok(ownEcho, "a user's other device sees what it sent, in history");
        await hank1.close();
      } finally {
        await hank2.close();
      }
    } finally {
      await gina.close();
      await hank.close();
    }
  });

  it("a device offline during sends gets them all, in order, on reconnect", async () => {
    const ivan = await newUser(t.url, "ivan");
    const judy = await newUser(t.url, "judy");
    try {
      const chat = await ivan.startDirectChat("judy");
      await judy.close();
      const texts = Array.from({ length: 25 }, (_, i) => `offline ${i}`);
      for (const text of texts) await ivan.sendText(chat.id, text);
      const judy2 = await reopen(judy);
      assert.deepEqual(
        (await receive(judy2, texts.length)).map((m) => m.text),
        texts,
      );
      await judy2.close();
    } finally {
      await ivan.close();
      await judy.close();
    }
  });

  it("a server restart between send and receive loses nothing", async () => {
    const kate = await newUser(t.url, "kate");
    const liam = await newUser(t.url, "liam");
    try {
      const chat = await kate.startDirectChat("liam");
      await liam.close();
      const texts = ["one", "two", "three", `four ${distinctive}`];
      for (const text of texts) await kate.sendText(chat.id, text);
      await t.restart();
      const liam2 = await reopen(liam);
      assert.deepEqual(
        (await receive(liam2, texts.length)).map((m) => m.text),
        texts,
      );
      // The sender reconnects by itself and keeps working.
      await kate.sendText(chat.id, "after restart");
      assert.equal((await receive(liam2, 1))[0]?.text, "after restart");
      await liam2.close();
    } finally {
      await kate.close();
      await liam.close();
    }
  });

  it("login with a wrong password or unknown user fails clearly", async () => {
    await assert.rejects(
      SoriClient.login({
        serverUrl: t.url,
        username: "alice",
        password: "wrong password",
        storage: new MemoryStorage(),
      }),
      (e: unknown) => e instanceof Error && "code" in e && e.code === "auth-failed",
    );
    await assert.rejects(
      SoriClient.login({
        serverUrl: t.url,
        username: "nobody-here",
        password: PASSWORD,
        storage: new MemoryStorage(),
      }),
      (e: unknown) => e instanceof Error && "code" in e && e.code === "auth-failed",
    );
    await assert.rejects(
      SoriClient.register({
        serverUrl: t.url,
        username: "ALICE",
        password: PASSWORD,
        storage: new MemoryStorage(),
      }),
      (e: unknown) => e instanceof Error && "code" in e && e.code === "username-taken",
    );
  });

  it("no plaintext or password ever reaches the server's database files or logs", async () => {
    await t.server.close();
    const needles = [distinctive, PASSWORD];
    for (const file of SqliteStore.databaseFiles(t.dataDir)) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      for (const n of needles) assert.equal(bytes.includes(Buffer.from(n)), false, `${n} found in ${file}`);
    }
    const logs = t.logs.join("");
    assert.ok(logs.length > 0, "the server logged something");
    for (const n of needles) assert.equal(logs.includes(n), false, `${n} found in the logs`);
    await t.restart();
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not met in time");
}
