import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryStorage } from "../storage/memory-storage.ts";
import { TrustStore } from "./trust-store.ts";

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);

describe("the trust store (account keys pinned on first sight)", () => {
  it("pins the first key, trusts it again, and records a different one as a change, once", async () => {
    const trust = new TrustStore(new MemoryStorage());
    assert.equal(await trust.observe("bob", key(1)), "first-seen");
    assert.equal(await trust.observe("bob", key(1)), "trusted");
    assert.equal(await trust.trusts("bob", key(1)), true);
    assert.equal(await trust.observe("bob", key(2)), "changed");
    assert.equal(await trust.observe("bob", key(2)), "change-pending", "the same change is not news");
    assert.equal(await trust.trusts("bob", key(2)), false, "a change counts only once acknowledged");
    assert.equal(await trust.trusts("bob", key(1)), true, "the pinned key stays until then");
    assert.deepEqual(await trust.pendingChanges(["bob", "carol"]), ["bob"]);
  });

  it("takes the new key when the change is acknowledged, unverified", async () => {
    const trust = new TrustStore(new MemoryStorage());
    await trust.observe("bob", key(1));
    await trust.setVerified("bob", true);
    assert.equal((await trust.get("bob"))?.verified, true);
    await trust.observe("bob", key(2));
    assert.equal(await trust.acknowledge("bob"), true);
    assert.equal(await trust.trusts("bob", key(2)), true);
    assert.equal((await trust.get("bob"))?.verified, false, "a verification was for the old key");
    assert.deepEqual(await trust.pendingChanges(["bob"]), []);
    assert.equal(await trust.acknowledge("bob"), false, "nothing left to acknowledge");
  });

  it("keeps what it learnt across restarts (it is in storage)", async () => {
    const storage = new MemoryStorage();
    await new TrustStore(storage).observe("bob", key(1));
    await new TrustStore(storage).observe("bob", key(3));
    assert.deepEqual(await new TrustStore(storage).pendingChanges(["bob"]), ["bob"]);
  });
});
