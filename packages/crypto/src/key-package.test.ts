import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CryptoError,
  type CryptoErrorCode,
  decodeKeyPackageBundle,
  encodeKeyPackageBundle,
  generateDeviceKeys,
  generateKeyPackage,
  KEY_PACKAGE_LIFETIME_SECONDS,
  keyPackageIdentity,
} from "./index.ts";
import { certifyDevice, generateAccountKeys } from "./account-key.ts";
import type { DeviceKeys } from "./types.ts";

const account = generateAccountKeys();
/** A credential for (userId, deviceId) certified by the test account for these keys. */
const cred = (userId: string, deviceId: string, keys: DeviceKeys) =>
  certifyDevice(account, { userId, deviceId }, keys.signaturePublicKey);

async function rejectsWith(run: () => unknown, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(Promise.resolve().then(run), (error: unknown) => {
    assert.ok(error instanceof CryptoError, `expected CryptoError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe("device keys and KeyPackages", () => {
  it("generates raw Ed25519 device keys", async () => {
    const a = await generateDeviceKeys();
    const b = await generateDeviceKeys();
    assert.equal(a.signaturePrivateKey.length, 32);
    assert.equal(a.signaturePublicKey.length, 32);
    assert.notDeepEqual(a.signaturePublicKey, b.signaturePublicKey);
  });

  it("makes KeyPackages whose identity, key and lifetime can be read back", async (t) => {
    const keys = await generateDeviceKeys();
    const started = performance.now();
    const bundle = await generateKeyPackage(cred("alice", "phone-1", keys), keys);
    t.diagnostic(`generateKeyPackage: ${(performance.now() - started).toFixed(1)} ms`);
    assert.equal(bundle.lastResort, false);
    assert.match(bundle.ref, /^[A-Za-z0-9_-]{43}$/); // SHA-256 output, unpadded base64url

    const read = keyPackageIdentity(bundle.publicKeyPackage);
    assert.equal(read.identity.userId, "alice");
    assert.equal(read.identity.deviceId, "phone-1");
    assert.deepEqual(read.identity.accountKey, account.publicKey);
    assert.equal(read.certified, true);
    assert.deepEqual(read.signaturePublicKey, keys.signaturePublicKey);
    const now = Date.now() / 1000;
    assert.ok(Math.abs(read.notAfter - (now + KEY_PACKAGE_LIFETIME_SECONDS)) < 60);

    const another = await generateKeyPackage(cred("alice", "phone-1", keys), keys, {
      lastResort: true,
    });
    assert.equal(another.lastResort, true);
    assert.notEqual(another.ref, bundle.ref);
  });

  it("round-trips bundles through storage encoding", async () => {
    const keys = await generateDeviceKeys();
    for (const lastResort of [false, true]) {
      const bundle = await generateKeyPackage(cred("u", "d", keys), keys, { lastResort });
      const encoded = encodeKeyPackageBundle(bundle);
      assert.equal(encoded[0], 1);
      assert.deepEqual(decodeKeyPackageBundle(encoded), bundle);
      await rejectsWith(() => decodeKeyPackageBundle(encoded.subarray(0, encoded.length - 1)), "malformed");
      await rejectsWith(() => decodeKeyPackageBundle(Uint8Array.of(...encoded, 0)), "malformed");
      await rejectsWith(() => decodeKeyPackageBundle(Uint8Array.of(2, ...encoded.subarray(1))), "malformed");
    }
  });

  it("rejects bad identities, mismatched keys and garbage", async () => {
    const keys = await generateDeviceKeys();
    const other = await generateDeviceKeys();
    await rejectsWith(
      () => generateKeyPackage({ ...cred("a", "d", keys), userId: "a/b" }, keys),
      "invalid-credential",
    );
    await rejectsWith(
      () => generateKeyPackage({ ...cred("a", "d", keys), deviceId: "" }, keys),
      "invalid-credential",
    );
    await rejectsWith(
      () =>
        generateKeyPackage(cred("a", "d", keys), { ...keys, signaturePrivateKey: other.signaturePrivateKey }),
      "malformed",
    );
    // A certificate for other keys, or from no account at all, is refused before anything is signed.
    await rejectsWith(() => generateKeyPackage(cred("a", "d", other), keys), "invalid-credential");
    await rejectsWith(
      () => generateKeyPackage({ ...cred("a", "d", keys), certificate: new Uint8Array(64) }, keys),
      "invalid-credential",
    );
    await rejectsWith(() => keyPackageIdentity(new Uint8Array([0, 1, 0, 5, 9])), "malformed");
    await rejectsWith(() => keyPackageIdentity(new Uint8Array()), "malformed");
    const bundle = await generateKeyPackage(cred("a", "d", keys), keys);
    await rejectsWith(() => keyPackageIdentity(bundle.publicKeyPackage.subarray(0, 100)), "malformed");
  });
});
