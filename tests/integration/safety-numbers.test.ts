import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { newDevice, receive, suiteServer, twoUsers, waitFor } from "../helpers.ts";

describe("safety numbers", () => {
  const t = suiteServer();

  it("are the same on both sides, can be verified, and change with a warning when a device is added", async () => {
    const [ann, ben] = await twoUsers(t.url, "ann", "ben");
    let ben2: SoriClient | undefined;
    try {
      const chat = await ann.startDirectChat("ben");
      await ann.sendText(chat.id, "hi");
      await receive(ben, 1);
      const a = await ann.safetyNumber("ben");
      const b = await ben.safetyNumber("ann");
      assert.match(a.digits, /^\d{60}$/);
      assert.equal(a.digits, b.digits);
      assert.equal(a.qr, b.qr);
      assert.equal(a.verified, false);
      assert.equal(await ann.verifySafetyQr("ben", "sori-safety:1:forged"), false);
      assert.equal(await ann.verifySafetyQr("ben", b.qr), true);
      assert.equal((await ann.safetyNumber("ben")).verified, true);

      const warnings: string[] = [];
      ann.on("safety", (s) => warnings.push(s.username));
      ben2 = await newDevice(t.url, ben);
      const changed = await ann.safetyNumber("ben");
      assert.notEqual(changed.digits, a.digits, "a new device changes the number");
      assert.equal(changed.digits, (await ben2.safetyNumber("ann")).digits);
      assert.equal(changed.verified, false, "the verification was for the old devices");
      // ann's next message adds ben's new device to the chat: a warning line appears there.
      await ann.sendText(chat.id, "still you?");
      const hist = await waitFor(
        () => ann.history(chat.id),
        (h) => h.some((m) => m.system?.event === "devices-changed"),
      );
      assert.deepEqual(hist.find((m) => m.kind === "system")?.system, {
        event: "devices-changed",
        userId: ben.userId,
        username: "ben",
      });
      assert.deepEqual(warnings, ["ben"]);
      assert.equal((await receive(ben2, 1))[0]?.text, "still you?");
    } finally {
      await Promise.all([ann.close(), ben.close(), ben2?.close()]);
    }
  });
});
