import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryStorage, SdkError, SoriClient } from "@sori/sdk";
import { dumpDatabase, newUser, PASSWORD, receive, settledDump, suiteServer, waitFor } from "../helpers.ts";

describe("linking a new device from an existing one", () => {
  const t = suiteServer();

  it("a code shown on the old device signs the new one in without the password; the old one approves it; it then gets new messages", async () => {
    const ann = await newUser(t.url, "ann");
    const ben = await newUser(t.url, "ben");
    let tablet: SoriClient | undefined;
    try {
      const chat = await ann.startDirectChat("ben");
      await ann.sendText(chat.id, "before");
      await receive(ben, 1);

      const link = await ann.createDeviceLink();
      assert.match(link.code, /^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/);
      assert.ok(link.expiresAt > Date.now());
      assert.equal(link.qr, `sori-link:${link.code}:${t.url}`);
      const [serverPart, secretPart] = [link.code.slice(0, 11), link.code.slice(12)];
      const db = dumpDatabase(t.dataDir);
      assert.ok(!db.includes(serverPart.replace("-", "")), "only a hash of the server's half is stored");
      assert.ok(!db.includes(secretPart.replace("-", "")), "the secret half never reaches the server");

      // A wrong code changes nothing; a malformed one is refused before anything is sent.
      const before = await settledDump(t.dataDir);
      await assert.rejects(
        SoriClient.linkDevice({
          serverUrl: t.url,
          code: "AAAAA-AAAAA-AAAAA-AAAAA",
          storage: new MemoryStorage(),
        }),
        (e: unknown) => e instanceof SdkError && e.code === "auth-failed",
      );
      assert.equal(dumpDatabase(t.dataDir), before);
      for (const qr of ["https://example.com", `sori-link:AAAAA-AAAAA:${t.url}`])
        await assert.rejects(
          SoriClient.linkDevice({ qr, storage: new MemoryStorage() }),
          (e: unknown) => e instanceof SdkError && e.code === "bad-request",
        );

      const storage = new MemoryStorage();
      await SoriClient.linkDevice({ qr: link.qr, storage, deviceName: "tablet" });
      tablet = await SoriClient.open(storage);
      await tablet.connect();
      // Ann's device checks the proof the code's secret half made and approves the tablet by itself.
      await tablet.waitForApproval({ timeoutMs: 10_000 });
      assert.equal(tablet.approval, "approved");
      assert.equal(tablet.username, "ann");
      assert.equal(tablet.userId, ann.userId);
      // Single use.
      await assert.rejects(
        SoriClient.linkDevice({
          serverUrl: t.url,
          code: link.code.toLowerCase(),
          storage: new MemoryStorage(),
        }),
        (e: unknown) => e instanceof SdkError && e.code === "auth-failed",
      );

      // The old device adds the new one to its chats; messages sent afterwards reach it.
      await waitFor(
        () => tablet!.findChat(chat.id),
        (c) => c !== undefined,
      );
      await ben.sendText(chat.id, "after the link");
      assert.equal((await receive(tablet, 1))[0]?.text, "after the link");

      const { devices } = await ann.devices();
      const listed = devices.find((d) => d.deviceId === tablet!.deviceId);
      assert.equal(listed?.name, "tablet");
      assert.equal(listed?.state, "active");
      assert.ok(listed?.lastSeenAt, "last seen is recorded");
      await ann.revokeDevice(tablet.deviceId);
      assert.equal((await ann.devices()).devices.length, 1);
    } finally {
      await Promise.all([ann.close(), ben.close(), tablet?.close()]);
    }
  });

  it("a code whose secret half is wrong (the server's half leaked) is not approved by itself: the person is asked", async () => {
    const cal = await newUser(t.url, "cal");
    let other: SoriClient | undefined;
    try {
      const asked: string[] = [];
      cal.on("device-approval", (r) => asked.push(r.deviceId));
      const link = await cal.createDeviceLink();
      // Someone who learnt only what the server sees tries the code with a secret of their own.
      const forged = `${link.code.slice(0, 11)}-ZZZZZ-ZZZZZ`;
      const storage = new MemoryStorage();
      await SoriClient.linkDevice({ serverUrl: t.url, code: forged, storage, deviceName: "not cal's" });
      other = await SoriClient.open(storage);
      await other.connect();
      assert.equal(other.approval, "pending");
      await waitFor(
        async () => asked,
        (a) => a.includes(other!.deviceId),
      );
      assert.equal(other.approval, "pending", "the proof did not check out: no automatic approval");
      const waiting = await cal.pendingDevices();
      assert.deepEqual(
        waiting.map((d) => [d.deviceId, d.name]),
        [[other.deviceId, "not cal's"]],
      );
      const rejected = other.waitForApproval({ timeoutMs: 10_000 });
      await cal.rejectDevice(other.deviceId);
      await assert.rejects(rejected, (e: unknown) => e instanceof SdkError && e.code === "approval-rejected");
      assert.deepEqual(
        (await cal.devices()).devices.map((d) => d.deviceId),
        [cal.deviceId],
      );
    } finally {
      await Promise.all([cal.close(), other?.close()]);
    }
  });
  it("a stored device knows before connecting whether it is approved; one signed out elsewhere hears it", async () => {
    const dot = await newUser(t.url, "dot");
    const storage = new MemoryStorage();
    let waiting: SoriClient | undefined;
    let second: SoriClient | undefined;
    try {
      await SoriClient.login({
        serverUrl: t.url,
        username: "dot",
        password: PASSWORD,
        storage,
        deviceName: "tab",
      });
      waiting = await SoriClient.open(storage);
      assert.equal(waiting.approval, "pending", "read from storage, not guessed");
      assert.match((await waiting.approvalCode()) ?? "", /^\d{4} \d{4} \d{4}$/);
      await dot.approveDevice(waiting.deviceId);
      // Approved while this app was closed: waiting before connecting must still wake up.
      const approved = waiting.waitForApproval({ timeoutMs: 10_000 });
      await waiting.connect();
      await approved;
      await waiting.close();
      second = await SoriClient.open(storage);
      assert.equal(second.approval, "approved", "known before connecting");
      await second.connect();
      const signedOut = new Promise<{ code: string }>((resolve) => second!.on("signed-out", resolve));
      await dot.revokeDevice(second.deviceId);
      assert.equal((await signedOut).code, "auth-failed");
    } finally {
      await Promise.all([dot.close(), waiting?.close(), second?.close()]);
    }
  });
});
