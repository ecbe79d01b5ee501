import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryStorage, SdkError, SoriClient } from "@sori/sdk";
import { dumpDatabase, newUser, receive, settledDump, suiteServer } from "../helpers.ts";

describe("linking a new device from an existing one", () => {
  const t = suiteServer();

  it("a code shown on the old device signs the new one in without the password; it then gets new messages", async () => {
    const ann = await newUser(t.url, "ann");
    const ben = await newUser(t.url, "ben");
    let tablet: SoriClient | undefined;
    try {
      const chat = await ann.startDirectChat("ben");
      await ann.sendText(chat.id, "before");
      await receive(ben, 1);

      const link = await ann.createDeviceLink();
      assert.match(link.code, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
      assert.ok(link.expiresAt > Date.now());
      assert.equal(link.qr, `sori-link:${link.code}:${t.url}`);
      assert.ok(!dumpDatabase(t.dataDir).includes(link.code.replace("-", "")), "only a hash is stored");

      // A wrong code changes nothing.
      const before = await settledDump(t.dataDir);
      await assert.rejects(
        SoriClient.linkDevice({ serverUrl: t.url, code: "AAAAA-AAAAA", storage: new MemoryStorage() }),
        (e: unknown) => e instanceof SdkError && e.code === "auth-failed",
      );
      assert.equal(dumpDatabase(t.dataDir), before);
      await assert.rejects(
        SoriClient.linkDevice({ qr: "https://example.com", storage: new MemoryStorage() }),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );

      const storage = new MemoryStorage();
      await SoriClient.linkDevice({ qr: link.qr, storage, deviceName: "tablet" });
      tablet = await SoriClient.open(storage);
      await tablet.connect();
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
      const deadline = Date.now() + 10_000;
      while (!(await tablet.findChat(chat.id)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await ben.sendText(chat.id, "after the link");
      assert.equal((await receive(tablet, 1))[0]?.text, "after the link");

      const { devices } = await ann.devices();
      const listed = devices.find((d) => d.deviceId === tablet!.deviceId);
      assert.equal(listed?.name, "tablet");
      assert.ok(listed?.lastSeenAt, "last seen is recorded");
      await ann.revokeDevice(tablet.deviceId);
      assert.equal((await ann.devices()).devices.length, 1);
    } finally {
      await Promise.all([ann.close(), ben.close(), tablet?.close()]);
    }
  });
});
