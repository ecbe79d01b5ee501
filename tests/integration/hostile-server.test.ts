// The server (or whoever runs it, or whoever sits between it and the clients) plays the attacker:
// it adds devices of its own to accounts, swaps account keys, offers its own KeyPackages, re-dates,
// reorders and drops deliveries. Each test ends with the attacker reading nothing and every affected
// person seeing a clear warning.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import {
  certifyDevice,
  generateAccountKeys,
  generateDeviceKeys,
  generateKeyPackage,
  generateTransferKeys,
} from "@sori/crypto";
import { toBase64 } from "@sori/protocol";
import { type ChatMessage, SdkError, type SoriClient } from "@sori/sdk";
import { startHostileProxy, type HostileProxy, type ProxyFrame } from "../hostile-proxy.ts";
import {
  newUser,
  receive,
  reopen,
  signInWaiting,
  startTestServer,
  type TestServer,
  waitFor,
} from "../helpers.ts";

const systemEvents = async (c: SoriClient, chat: string): Promise<string[]> =>
  (await c.history(chat)).filter((m) => m.kind === "system").map((m) => m.system!.event);

/** A device and KeyPackage the server makes up for `userId`, signed by `account` (the server's own key). */
async function rogueDevice(userId: string, account = generateAccountKeys()) {
  const keys = await generateDeviceKeys();
  const deviceId = toBase64(crypto.getRandomValues(new Uint8Array(16)))
    .replace(/[+/=]/g, "x")
    .slice(0, 22);
  const credential = certifyDevice(account, { userId, deviceId }, keys.signaturePublicKey);
  const kp = await generateKeyPackage(credential, keys);
  const lastResort = await generateKeyPackage(credential, keys, { lastResort: true });
  return { deviceId, keys, account, kp, lastResort };
}

/** Rows of the device's queue: what the server delivered (or would deliver) to it. */
function queuedFor(t: TestServer, deviceId: string): number {
  const db = new DatabaseSync(`${t.dataDir}/sori.db`, { readOnly: true });
  try {
    return Number(
      (db.prepare("SELECT COUNT(*) AS n FROM queue WHERE device_id = ?").get(deviceId) as { n: number }).n,
    );
  } finally {
    db.close();
  }
}

describe("a modified server cannot get a device of its own into a chat", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.stop();
  });

  it("a device the server adds to an account, uncertified or signed by a key of its own, is refused, reported, and never receives anything", async () => {
    const alice = await newUser(t.url, "alice");
    const bob = await newUser(t.url, "bob");
    const warnings: string[] = [];
    alice.on("warning", (w) => warnings.push(w.code));
    try {
      const chat = await alice.startDirectChat("bob");
      await alice.sendText(chat.id, "hello bob");
      await receive(bob, 1);
      const before = await alice.safetyNumber("bob");
      await alice.setVerified("bob", true);

      // The server signs a device in to bob's account with a key of its own, approves and activates
      // it, as if bob had. (A modified server skips its own checks: the store API does not check.)
      const store = t.server.store;
      const rogue = await rogueDevice(bob.userId);
      const notice = (kind: "device-pending" | "device-approved") => ({
        kind,
        groupId: null,
        messageId: rogue.deviceId,
        senderUserId: bob.userId,
        senderDeviceId: rogue.deviceId,
        epoch: null,
        data: null,
        sentAt: Date.now(),
      });
      await store.addDevice(
        {
          deviceId: rogue.deviceId,
          userId: bob.userId,
          name: "bob's new phone",
          signatureKey: rogue.keys.signaturePublicKey,
          createdAt: Date.now(),
          transferKey: (await generateTransferKeys()).publicKey,
        },
        {
          tokenHash: "rogue-token-hash",
          deviceId: rogue.deviceId,
          createdAt: Date.now(),
          expiresAt: Date.now() + 86_400_000,
        },
        10,
        notice("device-pending"),
      );
      await store.approveDevice(
        bob.userId,
        rogue.deviceId,
        new Uint8Array(64),
        new Uint8Array(48),
        Date.now(),
        notice("device-approved"),
      );
      await store.addKeyPackages(
        rogue.deviceId,
        [rogue.kp.publicKeyPackage],
        rogue.lastResort.publicKeyPackage,
        { ...notice("device-pending"), kind: "device-added", recipients: [] },
        200,
      );
      const queuedBefore = queuedFor(t, rogue.deviceId);

      // Alice's next message: the server insists the rogue device belongs in the chat. Alice's client
      // refuses its KeyPackage (bob's account never signed it), says so, and sends nothing readable to it.
      const refused = await alice.sendText(chat.id, "are you there?").then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(refused instanceof SdkError, "the send fails rather than include the server's device");
      assert.match(refused.message, /did not sign|refused|server/);
      assert.ok(warnings.includes("device-refused"), `warnings: ${warnings.join(", ")}`);
      assert.ok((await systemEvents(alice, chat.id)).includes("device-refused"));
      assert.equal(
        queuedFor(t, rogue.deviceId),
        queuedBefore,
        "no Welcome, no message for the server's device",
      );
      // Bob's safety number and alice's verification of it are as they were.
      const after = await alice.safetyNumber("bob");
      assert.equal(after.digits, before.digits);
      assert.equal(after.verified, true);

      // The server hides its device again: everything works as before, nothing was read.
      await store.revokeDevice(rogue.deviceId, Date.now());
      await alice.sendText(chat.id, "still just us");
      assert.deepEqual(
        (await receive(bob, 1)).map((m) => m.text),
        ["still just us"],
      );
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });

  it("swapping an account's key on the server shows 'safety number changed' in every chat with that person and blocks sending until it is accepted", async () => {
    const ann = await newUser(t.url, "ann");
    const ben = await newUser(t.url, "ben");
    const cat = await newUser(t.url, "cat");
    try {
      const direct = await ann.startDirectChat("ben");
      const group = await ann.createGroup("trio", ["ben", "cat"]);
      await ann.sendText(direct.id, "hi ben");
      await receive(ben, 1);
      const safety: string[] = [];
      ann.on("safety", (s) => safety.push(s.username));

      // The server replaces ben's account key with its own and adds a device signed by it.
      const serverKey = generateAccountKeys();
      const rogue = await rogueDevice(ben.userId, serverKey);
      await t.restart(undefined, () => {
        const db = new DatabaseSync(`${t.dataDir}/sori.db`);
        try {
          db.prepare("UPDATE users SET account_key = ? WHERE id = ?").run(serverKey.publicKey, ben.userId);
          const now = Date.now();
          db.prepare(
            "INSERT INTO devices (id, user_id, name, signature_key, created_at, activated_at, approved_at, certificate) VALUES (?, ?, 'ben?', ?, ?, ?, ?, ?)",
          ).run(
            rogue.deviceId,
            ben.userId,
            rogue.keys.signaturePublicKey,
            now,
            now,
            now,
            certifyDevice(
              serverKey,
              { userId: ben.userId, deviceId: rogue.deviceId },
              rogue.keys.signaturePublicKey,
            ).certificate,
          );
          db.prepare(
            "INSERT INTO key_packages (device_id, data, last_resort) VALUES (?, ?, 0), (?, ?, 1)",
          ).run(rogue.deviceId, rogue.kp.publicKeyPackage, rogue.deviceId, rogue.lastResort.publicKeyPackage);
        } finally {
          db.close();
        }
      });
      await ann.connect();

      // Ann's next send meets the new key: the warning goes into both chats with ben, and nothing is sent.
      await assert.rejects(
        ann.sendText(direct.id, "who is this?"),
        (e: unknown) =>
          e instanceof SdkError &&
          e.code === "identity-changed" &&
          /ben's safety number changed/.test(e.message),
      );
      assert.deepEqual(safety, ["ben"]);
      for (const c of [direct.id, group.id])
        assert.ok((await systemEvents(ann, c)).includes("identity-changed"), `warning in ${c}`);
      await assert.rejects(
        ann.sendText(group.id, "the group is blocked too"),
        (e: unknown) => e instanceof SdkError && e.code === "identity-changed",
      );
      const sn = await ann.safetyNumber("ben");
      assert.equal(sn.changed, true);
      assert.equal(sn.verified, false);
      assert.equal(queuedFor(t, rogue.deviceId), 0, "the server's device got nothing");
      // A new chat with him shows it too (and cannot be made before the change is accepted).
      await assert.rejects(
        ann.createGroup("another", ["ben"]),
        (e: unknown) => e instanceof SdkError && e.code === "identity-changed",
      );
    } finally {
      await Promise.all([ann.close(), ben.close(), cat.close()]);
    }
  });

  it("a login with a stolen password waits for approval; the owner is asked and rejects it; it never reads a thing", async () => {
    const dan = await newUser(t.url, "dan");
    const eve = await newUser(t.url, "eve");
    let thief: SoriClient | undefined;
    try {
      const chat = await eve.startDirectChat("dan");
      await eve.sendText(chat.id, "before the theft");
      await receive(dan, 1);
      const asked: { deviceId: string; code: string }[] = [];
      dan.on("device-approval", (r) => asked.push(r));

      thief = await signInWaiting(t.url, "dan", "thief");
      assert.equal(thief.approval, "pending");
      await waitFor(
        async () => asked,
        (a) => a.some((r) => r.deviceId === thief!.deviceId),
      );
      assert.equal(
        asked[0]?.code,
        await thief.approvalCode(),
        "the owner sees the code the new device shows",
      );
      // Waiting, it can do nothing: not list chats on the server, not claim KeyPackages, not send.
      await assert.rejects(
        thief.findUser("eve"),
        (e: unknown) => e instanceof SdkError && e.code === "approval-required",
      );
      await eve.sendText(chat.id, "while the thief waits");
      assert.equal((await receive(dan, 1))[0]?.text, "while the thief waits");
      assert.deepEqual(await thief.takeReceived(), []);
      assert.equal(queuedFor(t, thief.deviceId), 0);

      const rejected = thief.waitForApproval({ timeoutMs: 10_000 });
      await dan.rejectDevice(thief.deviceId);
      await assert.rejects(rejected, (e: unknown) => e instanceof SdkError && e.code === "approval-rejected");
      assert.deepEqual(
        (await dan.devices()).devices.map((d) => d.deviceId),
        [dan.deviceId],
      );
    } finally {
      await Promise.all([dan.close(), eve.close(), thief?.close()]);
    }
  });

  it("a stolen password used to reset the account's identity signs the owner out, and every contact sees the change before sending", async () => {
    const fay = await newUser(t.url, "fay");
    const gil = await newUser(t.url, "gil");
    let thief: SoriClient | undefined;
    try {
      const chat = await gil.startDirectChat("fay");
      await gil.sendText(chat.id, "hi fay");
      await receive(fay, 1);
      const fayOut = new Promise<void>((resolve) =>
        fay.on("connection", (s) => {
          if (s === "disconnected") resolve();
        }),
      );
      thief = await signInWaiting(t.url, "fay", "not fay");
      await thief.resetIdentity();
      await thief.waitForApproval({ timeoutMs: 10_000 });
      await fayOut;
      // Fay's own device was signed out: the server refuses its token from now on.
      await fay.close();
      await assert.rejects(reopen(fay), (e: unknown) => e instanceof SdkError && e.code === "auth-failed");

      // Gil cannot send to "fay" without seeing that her safety number changed.
      await assert.rejects(
        gil.sendText(chat.id, "is this still you?"),
        (e: unknown) => e instanceof SdkError && e.code === "identity-changed",
      );
      assert.ok((await systemEvents(gil, chat.id)).includes("identity-changed"));
      assert.equal(queuedFor(t, thief.deviceId), 0, "nothing of the old chat reached the thief");
    } finally {
      await Promise.all([gil.close(), thief?.close()]);
    }
  });
});

describe("a server that tampers with what it passes on", () => {
  let t: TestServer;
  let proxy: HostileProxy;
  before(async () => {
    t = await startTestServer();
    proxy = await startHostileProxy(t.url);
  });
  after(async () => {
    await proxy.close();
    await t.stop();
  });

  it("offers a KeyPackage of its own for a device that was asked for: it is refused and reported", async () => {
    const hal = await newUser(proxy.url, "hal");
    const ida = await newUser(proxy.url, "ida");
    const warnings: string[] = [];
    hal.on("warning", (w) => warnings.push(w.code));
    const forged = await rogueDevice(ida.userId);
    proxy.fromServer = (f) => {
      const result = f.result as
        { keyPackages?: { deviceId: string; userId: string; keyPackage: string }[] } | undefined;
      if (f.type === "result" && result?.keyPackages)
        return [
          {
            ...f,
            result: {
              ...result,
              keyPackages: result.keyPackages.map((k) =>
                k.userId === ida.userId ? { ...k, keyPackage: toBase64(forged.kp.publicKeyPackage) } : k,
              ),
            },
          },
        ];
      return [f];
    };
    try {
      await assert.rejects(
        hal.startDirectChat("ida"),
        (e: unknown) =>
          e instanceof SdkError && e.code === "unknown-user" && /no device that can be added/.test(e.message),
      );
      assert.ok(warnings.includes("device-refused"), warnings.join(", "));
    } finally {
      proxy.fromServer = (f) => [f];
      await Promise.all([hal.close(), ida.close()]);
    }
  });

  it("re-dates and reorders deliveries: times and order come from the senders, and the reordering is noted", async () => {
    const jo = await newUser(proxy.url, "joan");
    const kim = await newUser(proxy.url, "kimi");
    try {
      const chat = await jo.startDirectChat("kimi");
      await jo.sendText(chat.id, "first, to set things up");
      await receive(kim, 1);
      let held: ProxyFrame | undefined;
      proxy.fromServer = (f, link) => {
        if (f.type !== "deliver" || f.kind !== "message" || link.deviceId !== kim.deviceId) return [f];
        const redated = { ...f, sentAt: Date.UTC(2000, 0, 1) };
        if (!held) {
          held = redated;
          return [];
        }
        const out = [redated, held];
        held = undefined;
        return out;
      };
      const one = await jo.sendText(chat.id, "one");
      const two = await jo.sendText(chat.id, "two");
      const got = await receive(kim, 2);
      assert.deepEqual(
        got.map((m) => m.text),
        ["two", "one"],
        "the server delivered them the other way round",
      );
      const history = (await kim.history(chat.id)).filter((m) => m.kind === "text");
      assert.deepEqual(
        history.map((m) => m.text),
        ["first, to set things up", "one", "two"],
        "history follows the senders' order",
      );
      const byText = new Map(history.map((m) => [m.text, m]));
      assert.equal(byText.get("one")?.sentAt, one.sentAt, "the sender's time, not the server's year 2000");
      assert.equal(byText.get("two")?.sentAt, two.sentAt);
      assert.ok((await systemEvents(kim, chat.id)).includes("reordered"));
    } finally {
      proxy.fromServer = (f) => [f];
      await Promise.all([jo.close(), kim.close()]);
    }
  });

  it("drops a message: the receiver is told that messages are missing", async () => {
    const lee = await newUser(proxy.url, "leon");
    const mo = await newUser(proxy.url, "mona");
    try {
      const chat = await lee.startDirectChat("mona");
      await lee.sendText(chat.id, "one");
      await receive(mo, 1);
      let dropped = 0;
      proxy.fromServer = (f, link) => {
        if (f.type === "deliver" && f.kind === "message" && link.deviceId === mo.deviceId && dropped === 0) {
          dropped++;
          return [];
        }
        return [f];
      };
      await lee.sendText(chat.id, "two (dropped)");
      await lee.sendText(chat.id, "three");
      const got = await receive(mo, 1);
      assert.deepEqual(
        got.map((m: ChatMessage) => m.text),
        ["three"],
      );
      const missing = (await mo.history(chat.id)).find((m) => m.system?.event === "messages-missing");
      assert.deepEqual(missing?.system, {
        event: "messages-missing",
        userId: lee.userId,
        username: "leon",
        count: 1,
      });
    } finally {
      proxy.fromServer = (f) => [f];
      await Promise.all([lee.close(), mo.close()]);
    }
  });

  it("drops a commit to one member: that member notices, is re-added by another, and reads what follows", async () => {
    const ned = await newUser(proxy.url, "ned");
    const ola = await newUser(proxy.url, "ola");
    const pia = await newUser(proxy.url, "pia");
    const quinn = await newUser(proxy.url, "quinn");
    try {
      const group = await ned.createGroup("crew", ["ola", "pia"]);
      await ned.sendText(group.id, "welcome, all");
      await receive(ola, 1);
      await receive(pia, 1);
      // The server keeps the commit that adds quinn from pia.
      proxy.fromServer = (f, link) =>
        f.type === "deliver" && f.kind === "commit" && link.deviceId === pia.deviceId ? [] : [f];
      await ned.addMember(group.id, "quinn");
      proxy.fromServer = (f) => [f];
      await ned.sendText(group.id, "pia cannot read this one");
      assert.equal((await receive(ola, 1))[0]?.text, "pia cannot read this one");
      // Pia's device notices it fell behind, asks to be re-added, and one of the others does it.
      await waitFor(
        () => systemEvents(pia, group.id),
        (events) => events.includes("rejoined"),
        15_000,
      );
      await ned.sendText(group.id, "back in?");
      const got = await receive(pia, 1, 15_000);
      assert.equal(got.at(-1)?.text, "back in?");
      await pia.sendText(group.id, "yes, back");
      // Quinn (added by the commit pia missed) reads what pia writes once she is back.
      assert.deepEqual(
        (await receive(quinn, 3, 15_000)).map((m) => m.text),
        ["pia cannot read this one", "back in?", "yes, back"],
      );
      assert.ok(
        (await systemEvents(pia, group.id)).includes("messages-missing"),
        "what pia could not read is noted",
      );
    } finally {
      proxy.fromServer = (f) => [f];
      await Promise.all([ned.close(), ola.close(), pia.close(), quinn.close()]);
    }
  });
});
