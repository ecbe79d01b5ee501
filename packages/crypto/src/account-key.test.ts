import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accountKeysOf,
  addMembers,
  certifyDevice,
  commitChanges,
  CryptoError,
  createGroup,
  encrypt,
  generateAccountKeys,
  generateDeviceKeys,
  generateKeyPackage,
  generateTransferKeys,
  groupMembers,
  joinFromWelcome,
  keyPackageIdentity,
  openSecret,
  processMessage,
  sealSecret,
  verifyDeviceCertificate,
} from "./index.ts";
import { createCommit, generateKeyPackageWithKey } from "ts-mls";
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import { unwrapGroup } from "./group.ts";
import { cipherSuite } from "./cipher-suite.ts";
import { identityCredential } from "./identity.ts";
import { soriCapabilities } from "./key-package.ts";
import { accountOf, directoryValidator, makeDevice, text } from "./test-fixtures.ts";
import type { DeviceCredential, DeviceKeys } from "./types.ts";
import { decodeWire, encodeWire } from "./wire.ts";

/** A KeyPackage made with ts-mls directly, so nothing of ours checks the certificate on the way. */
async function rawKeyPackage(credential: DeviceCredential, keys: DeviceKeys): Promise<Uint8Array> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const { publicPackage } = await generateKeyPackageWithKey(
    identityCredential(credential),
    soriCapabilities(),
    { notBefore: now - 60n, notAfter: now + 3600n },
    [],
    { signKey: keys.signaturePrivateKey, publicKey: keys.signaturePublicKey },
    await cipherSuite(),
  );
  return encodeWire({ wireformat: "mls_key_package", keyPackage: publicPackage });
}

const refusal = (reason: string) => (error: unknown) => {
  assert.ok(error instanceof CryptoError, String(error));
  assert.equal(error.code, "invalid-credential", error.message);
  assert.ok(
    error.refused.some((r) => r.reason === reason),
    `refused: ${JSON.stringify(error.refused.map((r) => r.reason))}`,
  );
  return true;
};

describe("account keys and device certificates", () => {
  it("certifies exactly one (user, device, signature key) under one account key", async () => {
    const account = generateAccountKeys();
    const keys = await generateDeviceKeys();
    const cert = certifyDevice(account, { userId: "alice", deviceId: "phone" }, keys.signaturePublicKey);
    assert.equal(verifyDeviceCertificate(cert, keys.signaturePublicKey), true);
    const other = await generateDeviceKeys();
    assert.equal(verifyDeviceCertificate(cert, other.signaturePublicKey), false, "another device key");
    assert.equal(verifyDeviceCertificate({ ...cert, deviceId: "laptop" }, keys.signaturePublicKey), false);
    assert.equal(verifyDeviceCertificate({ ...cert, userId: "mallory" }, keys.signaturePublicKey), false);
    assert.equal(
      verifyDeviceCertificate(
        { ...cert, accountKey: generateAccountKeys().publicKey },
        keys.signaturePublicKey,
      ),
      false,
      "a signature by one account does not verify under another",
    );
    assert.equal(
      verifyDeviceCertificate({ ...cert, certificate: new Uint8Array(3) }, keys.signaturePublicKey),
      false,
    );
    assert.deepEqual(accountKeysOf(account.privateKey).publicKey, account.publicKey);
  });

  it("refuses to add a device whose KeyPackage was certified by another account (a server's own key)", async () => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    // The server makes a device for bob and signs it with a key of its own: the certificate verifies
    // under that key, so it is the validator (the SDK's account-key check) that must say no.
    const rogue = await makeDevice(directory, "bob", "rogue", generateAccountKeys());
    const group = await createGroup(alice.identity, alice.keys, text("g1"));
    await assert.rejects(
      addMembers(group, [rogue.keyPackages[0]!.publicKeyPackage], validate),
      refusal("rejected"),
    );
  });

  it("refuses a KeyPackage whose certificate does not verify, before asking the validator", async () => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const group = await createGroup(alice.identity, alice.keys, text("g2"));
    // A server swaps its own signature key into bob's KeyPackage, keeping bob's real certificate (and
    // lists that key in its directory): ts-mls signs and verifies such a leaf without complaint.
    const swapped = await generateDeviceKeys();
    directory.set("bob/phone", swapped.signaturePublicKey);
    const forged = await rawKeyPackage(bob.identity, swapped);
    assert.equal(keyPackageIdentity(forged).certified, false);
    validate.calls.length = 0;
    await assert.rejects(addMembers(group, [forged], validate), refusal("uncertified"));
    assert.deepEqual(validate.calls, [], "the validator (and the directory) never decided");
  });

  it("makes members refuse a commit that adds a leaf whose certificate does not verify", async () => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const group = await createGroup(alice.identity, alice.keys, text("g6"));
    const add = await addMembers(group, [bob.keyPackages[0]!.publicKeyPackage], validate);
    const atBob = await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate);
    // A lying member (or one whose client is modified) commits a device with a borrowed certificate.
    const swapped = await generateDeviceKeys();
    directory.set("alice/rogue", swapped.signaturePublicKey);
    const forged = await rawKeyPackage({ ...alice.identity, deviceId: "rogue" }, swapped);
    const decoded = decodeWire(forged, "test");
    assert.ok(decoded.wireformat === "mls_key_package");
    const result = await createCommit(
      { state: unwrapGroup(add.group, defaultClientConfig), cipherSuite: await cipherSuite() },
      {
        extraProposals: [{ proposalType: "add", add: { keyPackage: decoded.keyPackage } }],
        ratchetTreeExtension: true,
      },
    );
    await assert.rejects(
      processMessage(atBob.group, encodeWire(result.commit), validate),
      refusal("uncertified"),
    );
  });

  it("makes a joiner refuse a tree with a member whose account key the validator does not trust", async () => {
    const directory = new Map<string, Uint8Array>();
    const alice = await makeDevice(directory, "alice", "phone");
    const carol = await makeDevice(directory, "carol", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const group = await createGroup(alice.identity, alice.keys, text("g3"));
    const add = await addMembers(
      group,
      [carol.keyPackages[0]!.publicKeyPackage, bob.keyPackages[0]!.publicKeyPackage],
      directoryValidator(directory),
    );
    // Bob knows a different account key for carol (he verified her, the server swapped it since).
    const bobs = async (m: { userId: string; accountKey: Uint8Array }, key: Uint8Array): Promise<boolean> =>
      m.userId === "carol" ? false : directoryValidator(directory)(m as never, key);
    await assert.rejects(joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, bobs), refusal("rejected"));
  });

  it("says who sent a Welcome and which account keys the members have", async () => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const group = await createGroup(alice.identity, alice.keys, text("g4"));
    const add = await addMembers(group, [bob.keyPackages[0]!.publicKeyPackage], validate);
    const joined = await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate);
    assert.deepEqual(joined.sender, alice.member);
    const members = groupMembers(joined.group);
    assert.deepEqual(
      members.map((m) => m.accountKey),
      [accountOf("alice").publicKey, accountOf("bob").publicKey],
    );
  });

  it("re-adds a device that fell behind, in one commit, and it reads what follows", async () => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const carol = await makeDevice(directory, "carol", "phone");
    const group = await createGroup(alice.identity, alice.keys, text("g5"));
    const add = await addMembers(
      group,
      [bob.keyPackages[0]!.publicKeyPackage, carol.keyPackages[0]!.publicKeyPackage],
      validate,
    );
    const bobJoined = await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate);
    // Carol never got the Welcome's follow-up commit; she comes back with a fresh KeyPackage.
    const fresh = await generateKeyPackage(carol.identity, carol.keys);
    const readd = await commitChanges(
      add.group,
      { remove: [carol.member], add: [fresh.publicKeyPackage] },
      validate,
    );
    assert.deepEqual(readd.removed, [carol.member]);
    assert.deepEqual(readd.added, [carol.member]);
    assert.ok(readd.welcome);
    const atBob = await processMessage(bobJoined.group, readd.commit, validate);
    assert.equal(atBob.kind, "commit");
    const carolBack = await joinFromWelcome(readd.welcome, [fresh], carol.keys, validate);
    const sent = await encrypt(readd.group, text("welcome back"));
    const got = await processMessage(carolBack.group, sent.message, validate);
    assert.equal(got.kind === "application" && new TextDecoder().decode(got.plaintext), "welcome back");
    assert.equal(groupMembers(carolBack.group).filter((m) => m.userId === "carol").length, 1);
  });
});

describe("sealing a secret to a new device", () => {
  it("opens only with the recipient's key and the same context", async () => {
    const recipient = await generateTransferKeys();
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const context = text("alice/laptop");
    const sealed = await sealSecret(recipient.publicKey, secret, context);
    assert.deepEqual(await openSecret(recipient, sealed, context), secret);
    const other = await generateTransferKeys();
    await assert.rejects(
      openSecret(other, sealed, context),
      (e: unknown) => e instanceof CryptoError && e.code === "decrypt-failed",
    );
    await assert.rejects(
      openSecret(recipient, sealed, text("alice/rogue")),
      (e: unknown) => e instanceof CryptoError && e.code === "decrypt-failed",
      "a box for one device cannot be replayed to another",
    );
    const flipped = sealed.slice();
    flipped[flipped.length - 1]! ^= 1;
    await assert.rejects(openSecret(recipient, flipped, context), (e: unknown) => e instanceof CryptoError);
    await assert.rejects(
      openSecret(recipient, sealed.subarray(0, 10), context),
      (e: unknown) => e instanceof CryptoError && e.code === "malformed",
    );
  });
});
