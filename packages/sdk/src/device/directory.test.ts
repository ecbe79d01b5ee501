import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AccountKeys,
  certifyDevice,
  generateAccountKeys,
  generateDeviceKeys,
  generateKeyPackage,
} from "@sori/crypto";
import type { ClientRequest } from "@sori/protocol";
import { MemoryStorage } from "../storage/memory-storage.ts";
import type { DeviceContext } from "./device-context.ts";
import { Directory } from "./directory.ts";
import { TrustStore } from "./trust-store.ts";

type Claimed = { deviceId: string; userId: string; keyPackage: Uint8Array };

/** A Directory over a fake server that answers kp.claim with `answer` and dir.users with nothing. */
function directoryWith(answer: () => Claimed[], own: AccountKeys, changed: string[] = []) {
  const storage = new MemoryStorage();
  const trust = new TrustStore(storage);
  const request = (async (r: ClientRequest) => {
    if (r.type === "kp.claim") return { keyPackages: answer(), missing: [] };
    return { users: [], unknown: [] };
  }) as unknown as DeviceContext["request"];
  const ctx = {
    request,
    storage,
    account: { accountKey: own.publicKey } as DeviceContext["account"],
    warn: () => undefined,
  };
  const directory = new Directory(ctx, { userId: "me", username: "me" }, trust, {
    identityChanged: async (u) => {
      changed.push(u);
    },
  });
  return { directory, trust };
}

async function keyPackageOf(userId: string, deviceId: string, account: AccountKeys): Promise<Uint8Array> {
  const keys = await generateDeviceKeys();
  return (
    await generateKeyPackage(certifyDevice(account, { userId, deviceId }, keys.signaturePublicKey), keys)
  ).publicKeyPackage;
}

describe("the directory takes only the KeyPackages it asked for", () => {
  it("keeps one per requested device of the right user, certified by that user's pinned key, and says why it refused the rest", async () => {
    const own = generateAccountKeys();
    const bob = generateAccountKeys();
    const server = generateAccountKeys();
    const answer: Claimed[] = [
      { deviceId: "B1", userId: "bob", keyPackage: await keyPackageOf("bob", "B1", bob) },
      // A second package for the same device.
      { deviceId: "B1", userId: "bob", keyPackage: await keyPackageOf("bob", "B1", bob) },
      // A device nobody asked for.
      { deviceId: "X9", userId: "bob", keyPackage: await keyPackageOf("bob", "X9", bob) },
      // Claimed for bob's B2 but made for another device.
      { deviceId: "B2", userId: "bob", keyPackage: await keyPackageOf("bob", "B7", bob) },
      // Signed by the server's own key.
      { deviceId: "B3", userId: "bob", keyPackage: await keyPackageOf("bob", "B3", server) },
      // Garbage.
      { deviceId: "B4", userId: "bob", keyPackage: new Uint8Array([1, 2, 3]) },
    ];
    const { directory, trust } = directoryWith(() => answer, own);
    await trust.observe("bob", bob.publicKey);
    const expected = new Map([
      ["B1", "bob"],
      ["B2", "bob"],
      ["B3", "bob"],
      ["B4", "bob"],
    ]);
    const { keyPackages, refused } = await directory.claimKeyPackages(expected);
    assert.deepEqual(
      keyPackages.map((k) => k.deviceId),
      ["B1"],
    );
    assert.deepEqual(
      refused.map((r) => [r.deviceId, r.reason]),
      [
        ["B1", "unrequested"],
        ["X9", "unrequested"],
        ["B2", "unrequested"],
        ["B3", "untrusted-key"],
        ["B4", "malformed"],
      ],
    );
  });

  it("never takes a device of its own account signed by another key", async () => {
    const own = generateAccountKeys();
    const mine = await keyPackageOf("me", "M2", own);
    const forged = await keyPackageOf("me", "M3", generateAccountKeys());
    const { directory } = directoryWith(
      () => [
        { deviceId: "M2", userId: "me", keyPackage: mine },
        { deviceId: "M3", userId: "me", keyPackage: forged },
      ],
      own,
    );
    const { keyPackages, refused } = await directory.claimKeyPackages(
      new Map([
        ["M2", "me"],
        ["M3", "me"],
      ]),
    );
    assert.deepEqual(
      keyPackages.map((k) => k.deviceId),
      ["M2"],
    );
    assert.deepEqual(refused, [{ userId: "me", deviceId: "M3", reason: "untrusted-key" }]);
  });

  it("accepts a changed key only in a group others changed, and then reports the change", async () => {
    const own = generateAccountKeys();
    const changed: string[] = [];
    const { directory, trust } = directoryWith(() => [], own, changed);
    await trust.observe("bob", new Uint8Array(32).fill(1));
    const other = new Uint8Array(32).fill(2);
    assert.equal(await directory.checkAccountKey("bob", other, true), false, "not to add");
    assert.deepEqual(changed, [], "a refused key is not a change");
    assert.equal(await directory.checkAccountKey("bob", other, false), true, "to follow a commit");
    assert.deepEqual(changed, ["bob"]);
    assert.equal(await directory.checkAccountKey("me", other, false), false, "never for our own account");
  });
});
