import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryStorage, SdkError, SoriClient } from "@sori/sdk";
import { newDevice, newUser, PASSWORD, receive, suiteServer } from "../helpers.ts";

describe("resilience of the SDK against a real server", () => {
  const t = suiteServer(["--connections-per-account", "3"]);

  it("two members changing a group at once both succeed, in some order", async () => {
    const [ann, ben, cat, dan, eve] = await Promise.all(
      ["ann", "ben", "cat", "dan", "eve"].map((u) => newUser(t.url, u)),
    );
    try {
      const group = await ann!.createGroup("race", ["ben"]);
      await assert.rejects(
        eve!.sendText(group.id, "not a member"),
        (e: unknown) => e instanceof SdkError && e.code === "unknown-chat",
      );
      await waitUntil(async () => (await ben!.findChat(group.id)) !== undefined);
      await ben!.sendText(group.id, "ben is in");
      await receive(ann!, 1);
      // Both commit from the same epoch: the server takes one, the other catches up and retries.
      await Promise.all([ann!.addMember(group.id, "cat"), ben!.addMember(group.id, "dan")]);
      await ann!.sendText(group.id, "everyone?");
      for (const c of [ben!, cat!, dan!]) assert.equal((await receive(c, 1))[0]?.text, "everyone?");
      const members = (await dan!.chats()).find((c) => c.id === group.id)?.members;
      assert.deepEqual(members, ["ann", "ben", "cat", "dan"]);
      assert.equal((await eve!.chats()).length, 0);
    } finally {
      await Promise.all([ann, ben, cat, dan, eve].map((c) => c?.close()));
    }
  });

  it("a dropped connection reconnects by itself and nothing is received twice", async () => {
    const fay = await newUser(t.url, "fay");
    const gus = await newUser(t.url, "gus");
    try {
      const chat = await fay.startDirectChat("gus");
      for (let i = 0; i < 5; i++) {
        await fay.sendText(chat.id, `m${i}`);
        gus.dropConnection();
      }
      await gus.waitSynced(10_000).catch(() => undefined);
      const got = await receive(gus, 5);
      assert.deepEqual(
        got.map((m) => m.text),
        ["m0", "m1", "m2", "m3", "m4"],
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await gus.takeReceived(), [], "no duplicates after redelivery");
      fay.dropConnection();
      await fay.sendText(chat.id, "after my own reconnect");
      assert.equal((await receive(gus, 1))[0]?.text, "after my own reconnect");
    } finally {
      await fay.close();
      await gus.close();
    }
  });

  it("sends and group changes survive connection drops at random moments, each message arriving once", async () => {
    const lea = await newUser(t.url, "lea");
    const max = await newUser(t.url, "max");
    const ned = await newUser(t.url, "ned");
    try {
      const group = await lea.createGroup("flaky", ["max"]);
      const texts: string[] = [];
      for (let i = 0; i < 15; i++) {
        const text = `flaky ${i}`;
        texts.push(text);
        const sending = lea.sendText(group.id, text);
        // Drop somewhere between before the request leaves and after the answer arrives.
        setTimeout(() => lea.dropConnection(), Math.floor(Math.random() * 6));
        await sending;
      }
      const adding = lea.addMember(group.id, "ned");
      setTimeout(() => lea.dropConnection(), Math.floor(Math.random() * 10));
      await adding;
      await lea.sendText(group.id, "ned is here");
      assert.deepEqual(
        (await receive(max, texts.length + 1)).map((m) => m.text),
        [...texts, "ned is here"],
      );
      assert.deepEqual(
        (await receive(ned, 1)).map((m) => m.text),
        ["ned is here"],
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await max.takeReceived(), [], "nothing twice");
    } finally {
      await Promise.all([lea.close(), max.close(), ned.close()]);
    }
  });

  it("a storage failure while processing an incoming message delays it but never loses it", async () => {
    // Fails the first write of history (as a full disk would), then recovers.
    class FlakyStorage extends MemoryStorage {
      failures = 1;
      override async put(key: string, value: Uint8Array): Promise<void> {
        if (key.startsWith("hist/") && this.failures > 0) {
          this.failures--;
          throw new Error("disk full");
        }
        return super.put(key, value);
      }
    }
    const olga = await newUser(t.url, "olga");
    const storage = new FlakyStorage();
    storage.failures = 0;
    await SoriClient.register({ serverUrl: t.url, username: "pete", password: PASSWORD, storage });
    const pete = await SoriClient.open(storage);
    const warnings: string[] = [];
    pete.on("warning", (w) => warnings.push(w.code));
    await pete.connect();
    try {
      const chat = await olga.startDirectChat("pete");
      storage.failures = 1;
      await olga.sendText(chat.id, "must not be lost");
      const [m] = await receive(pete, 1);
      assert.equal(m?.text, "must not be lost");
      assert.ok(warnings.includes("message-delayed"), `warnings: ${warnings.join(", ")}`);
      assert.deepEqual(
        (await pete.history(chat.id)).map((x) => x.text),
        ["must not be lost"],
      );
    } finally {
      await Promise.all([olga.close(), pete.close()]);
    }
  });

  it('a message left "sending" by a crashed app is resent, once, in order, when it starts again', async () => {
    // Snapshots the storage at the moment the advanced group state is saved — after the message was
    // written as "sending", before the request leaves — and fails there, so the request never leaves:
    // the snapshot is what a crash at that instant leaves on disk.
    class CrashingStorage extends MemoryStorage {
      onGroupSaved: (() => Promise<void>) | undefined;
      override async put(key: string, value: Uint8Array): Promise<void> {
        await super.put(key, value);
        const hook = this.onGroupSaved;
        if (key.startsWith("group/") && hook) {
          this.onGroupSaved = undefined;
          await hook();
        }
      }
    }
    const storage = new CrashingStorage();
    await SoriClient.register({ serverUrl: t.url, username: "quin", password: PASSWORD, storage });
    const quin = await SoriClient.open(storage);
    await quin.connect();
    const rita = await newUser(t.url, "rita");
    const afterCrash = new MemoryStorage();
    try {
      const chat = await quin.startDirectChat("rita");
      await quin.sendText(chat.id, "before the crash");
      storage.onGroupSaved = async () => {
        for (const key of await storage.list("")) await afterCrash.put(key, (await storage.get(key))!);
        throw new Error("crash");
      };
      await assert.rejects(quin.sendText(chat.id, "in flight at the crash"));
      await quin.close();
      assert.deepEqual(
        (await receive(rita, 1)).map((m) => m.text),
        ["before the crash"],
      );

      const restarted = await SoriClient.open(afterCrash);
      try {
        const [left] = (await restarted.history(chat.id)).filter((m) => m.text === "in flight at the crash");
        assert.equal(left?.status, "sending", "the crash left it sending");
        await restarted.connect();
        assert.deepEqual(
          (await receive(rita, 1)).map((m) => m.text),
          ["in flight at the crash"],
        );
        await restarted.sendText(chat.id, "after the restart");
        assert.deepEqual(
          (await receive(rita, 1)).map((m) => m.text),
          ["after the restart"],
        );
        const mine = await restarted.history(chat.id);
        assert.deepEqual(
          mine
            .map((m) => `${m.text}:${m.status === "delivered" ? "sent" : m.status}`)
            .filter((x) => !x.startsWith("before")),
          ["in flight at the crash:sent", "after the restart:sent"],
        );
        assert.deepEqual(await afterCrash.list("outbox/"), [], "nothing left to resend");
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(await rita.takeReceived(), [], "nothing twice");
      } finally {
        await restarted.close();
      }
    } finally {
      await rita.close();
    }
  });

  it("a revoked device is shut out and removed from its chats", async () => {
    const hal = await newUser(t.url, "hal");
    const ida = await newUser(t.url, "ida");
    const ida2 = await newDevice(t.url, ida);
    try {
      const chat = await hal.startDirectChat("ida");
      await hal.sendText(chat.id, "to both devices");
      assert.equal((await receive(ida2, 1))[0]?.text, "to both devices");
      const devices = (await ida.devices()).devices;
      assert.equal(devices.length, 2);
      const second = devices.find((d) => !d.current)!;
      await ida.revokeDevice(second.deviceId);
      assert.equal((await ida.devices()).devices.length, 1);
      // The next send first removes the revoked device from the group (MLS remove commit).
      await hal.sendText(chat.id, "only the first device");
      assert.equal((await receive(ida, 2)).map((m) => m.text).at(-1), "only the first device");
      assert.deepEqual(await ida2.takeReceived(), []);
      const members = (await hal.chats()).find((c) => c.id === chat.id)?.members;
      assert.deepEqual(members, ["hal", "ida"]);
      // Its session token no longer works: the server dropped it and refuses it on reconnect.
      await waitUntil(async () => {
        const e = await ida2.connect({ timeoutMs: 1000 }).then(
          () => undefined,
          (x: unknown) => x,
        );
        return e instanceof SdkError && e.code === "auth-failed";
      });
    } finally {
      await Promise.all([hal.close(), ida.close(), ida2.close()]);
    }
  });

  it("logout revokes the device; a new login is a fresh device", async () => {
    const storage = new MemoryStorage();
    await SoriClient.register({ serverUrl: t.url, username: "jon", password: PASSWORD, storage });
    const jon = await SoriClient.open(storage);
    await jon.logout();
    assert.deepEqual(await storage.list(""), [], "local data is deleted");
    await assert.rejects(
      SoriClient.open(storage),
      (e: unknown) => e instanceof SdkError && e.code === "not-logged-in",
    );
    const again = new MemoryStorage();
    await SoriClient.login({ serverUrl: t.url, username: "jon", password: PASSWORD, storage: again });
    const jon2 = await SoriClient.open(again);
    await jon2.connect();
    assert.equal((await jon2.devices()).devices.length, 1);
    await jon2.close();
  });

  it("refuses connections beyond the per-account limit with a clear error", async () => {
    const kim = await newUser(t.url, "kim");
    const extra = [await newDevice(t.url, kim), await newDevice(t.url, kim)];
    const storage = new MemoryStorage();
    try {
      const started = Date.now();
      await assert.rejects(
        SoriClient.login({ serverUrl: t.url, username: "kim", password: PASSWORD, storage }),
        (e: unknown) =>
          e instanceof SdkError &&
          e.code === "too-many-connections" &&
          /at most 3 connections/.test(e.message),
      );
      assert.ok(Date.now() - started < 5000, "refused at once, not after a timeout");
      // Once a connection frees up, the same device connects and becomes usable.
      await extra[1]!.close();
      const fourth = await SoriClient.open(storage);
      try {
        for (let attempt = 0; ; attempt++) {
          const refused = await fourth.connect({ timeoutMs: 2000 }).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (!refused) break;
          // The server may not have seen the freed socket close yet.
          if (attempt >= 20) throw refused;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal((await fourth.devices()).devices.length, 4);
      } finally {
        await fourth.close();
      }
    } finally {
      await Promise.all([kim.close(), ...extra.map((c) => c.close())]);
    }
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}
