import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkError, type SoriClient } from "@sori/sdk";
import { newDevice, receive, signInWaiting, suiteServer, twoUsers, waitFor } from "../helpers.ts";

describe("safety numbers", () => {
  const t = suiteServer();

  it("are the same on both sides, can be verified, and stay the same when a device is added", async () => {
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
      assert.equal(a.changed, false);
      assert.equal(await ann.verifySafetyQr("ben", "sori-safety:2:forged"), false);
      assert.equal(await ann.verifySafetyQr("ben", b.qr), true);
      assert.equal((await ann.safetyNumber("ben")).verified, true);

      // Ben's account signs in another device: his account key, and so the number, stay the same.
      const warnings: string[] = [];
      ann.on("safety", (s) => warnings.push(s.username));
      ben2 = await newDevice(t.url, ben);
      const after = await ann.safetyNumber("ben");
      assert.equal(after.digits, a.digits, "the number is over account keys, not devices");
      assert.equal(after.verified, true, "the verification still holds");
      assert.equal((await ben2.safetyNumber("ann")).digits, a.digits);
      await ann.sendText(chat.id, "still you?");
      assert.equal((await receive(ben2, 1))[0]?.text, "still you?");
      assert.deepEqual(warnings, [], "no warning for a device the account signed in");
    } finally {
      await Promise.all([ann.close(), ben.close(), ben2?.close()]);
    }
  });

  it("change when the account gets a new identity key: a warning, no sending until it is accepted, then it works", async () => {
    const [cal, dee] = await twoUsers(t.url, "cal", "dee");
    let dee2: SoriClient | undefined;
    try {
      const chat = await cal.startDirectChat("dee");
      await cal.sendText(chat.id, "hello dee");
      await receive(dee, 1);
      const before = await cal.safetyNumber("dee");
      await cal.setVerified("dee", true);
      // Dee lost her phone (still signed in somewhere): a new device, with nobody at hand to approve
      // it, makes a new account key; that signs the lost one out.
      await dee.close();
      dee2 = await signInWaiting(t.url, "dee", "new phone");
      assert.equal(await dee2.signedInAs(), "pending", "the lost phone could still approve it");
      await dee2.resetIdentity();
      await dee2.waitForApproval({ timeoutMs: 10_000 });
      assert.equal(dee2.approval, "approved");

      await assert.rejects(
        cal.sendText(chat.id, "is that you?"),
        (e: unknown) =>
          e instanceof SdkError &&
          e.code === "identity-changed" &&
          (e.details.userIds ?? []).includes(dee2!.userId),
      );
      const changed = await cal.safetyNumber("dee");
      assert.equal(changed.changed, true);
      assert.equal(changed.verified, false, "the verification was for the old key");
      assert.notEqual(changed.digits, before.digits);
      assert.equal(changed.digits, (await dee2.safetyNumber("cal")).digits, "both sides show the new number");
      const line = (await cal.history(chat.id)).find((m) => m.system?.event === "identity-changed");
      assert.deepEqual(line?.system, { event: "identity-changed", userId: dee2.userId, username: "dee" });

      // Cal compares the new number with dee and accepts it: her new device joins the chat.
      await cal.acceptSafetyNumberChange("dee");
      assert.equal((await cal.safetyNumber("dee")).changed, false);
      await waitFor(
        () =>
          cal.sendText(chat.id, "welcome back").then(
            () => true,
            () => false,
          ),
        (ok) => ok,
      );
      assert.equal((await receive(dee2, 1))[0]?.text, "welcome back");
    } finally {
      await Promise.all([cal.close(), dee.close(), dee2?.close()]);
    }
  });
});
