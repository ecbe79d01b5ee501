import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EncryptedStorage } from "./encrypted-storage.ts";
import { SdkError } from "../errors.ts";
import { MemoryStorage } from "./memory-storage.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("EncryptedStorage (passphrase-protected profiles)", () => {
  it("round-trips values, keeps no plaintext underneath, and refuses a wrong passphrase", async () => {
    const inner = new MemoryStorage();
    const enc = await EncryptedStorage.create(inner, "correct horse");
    await enc.put("profile", text("secret signature key"));
    assert.deepEqual(await enc.get("profile"), text("secret signature key"));
    assert.equal(await enc.get("missing"), undefined);
    for (const key of await inner.list("")) {
      const raw = new TextDecoder().decode(await inner.get(key));
      assert.ok(!raw.includes("secret"), `${key} holds no plaintext`);
    }
    assert.equal(await EncryptedStorage.isEncrypted(inner), true);
    await assert.rejects(
      EncryptedStorage.open(inner, "wrong horse"),
      (e: unknown) => e instanceof SdkError && e.code === "auth-failed",
    );
    const again = await EncryptedStorage.open(inner, "correct horse");
    assert.deepEqual(await again.get("profile"), text("secret signature key"));
  });

  it("detects a value moved to another key or altered, and only starts on an empty storage", async () => {
    const inner = new MemoryStorage();
    const enc = await EncryptedStorage.create(inner, "pw");
    await enc.put("a", text("one"));
    await inner.put("b", (await inner.get("a"))!);
    await assert.rejects(enc.get("b"), (e: unknown) => e instanceof SdkError && e.code === "storage");
    await assert.rejects(
      EncryptedStorage.create(inner, "pw"),
      (e: unknown) => e instanceof SdkError && e.code === "conflict",
    );
    await assert.rejects(EncryptedStorage.create(new MemoryStorage(), ""), SdkError);
  });
});
