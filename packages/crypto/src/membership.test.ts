import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addMembers,
  CryptoError,
  type CryptoErrorCode,
  createGroup,
  decodeGroup,
  encodeGroup,
  encrypt,
  exportSecret,
  groupEpoch,
  groupIdOf,
  groupMembers,
  isActive,
  joinFromWelcome,
  type MlsGroup,
  processMessage,
  removeMembers,
} from "./index.ts";
import { directoryValidator, makeDevice, type TestDevice, text } from "./test-fixtures.ts";

/** Asserts that `promise` rejects with a CryptoError of `code`. */
async function rejectsWith(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CryptoError, `expected CryptoError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Alice (phone + laptop) creates a group and adds her laptop and Bob; everyone joins. */
async function aliceAndBob() {
  const directory = new Map<string, Uint8Array>();
  const validate = directoryValidator(directory);
  const alice1 = await makeDevice(directory, "alice", "phone");
  const alice2 = await makeDevice(directory, "alice", "laptop");
  const bob = await makeDevice(directory, "bob", "phone");
  const groupId = crypto.getRandomValues(new Uint8Array(16));

  const created = await createGroup(alice1.identity, alice1.keys, groupId);
  const add = await addMembers(created, [kp(alice2), kp(bob)], validate);
  const joined2 = await joinFromWelcome(add.welcome, alice2.keyPackages, alice2.keys, validate);
  const joinedBob = await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate);
  return {
    directory,
    validate,
    groupId,
    add,
    joined2,
    joinedBob,
    devices: { alice1, alice2, bob },
    groups: { alice1: add.group, alice2: joined2.group, bob: joinedBob.group },
  };
}

function kp(device: TestDevice): Uint8Array {
  const bundle = device.keyPackages[0];
  assert.ok(bundle);
  return bundle.publicKeyPackage;
}

/** Encrypts with `from` and checks every receiver decrypts the exact plaintext from the right sender. */
async function roundTrip(
  from: { group: MlsGroup; device: TestDevice },
  to: { group: MlsGroup }[],
  body: string,
  validate: ReturnType<typeof directoryValidator>,
): Promise<{ sender: MlsGroup; receivers: MlsGroup[] }> {
  const sent = await encrypt(from.group, text(body));
  const receivers: MlsGroup[] = [];
  for (const receiver of to) {
    const incoming = await processMessage(receiver.group, sent.message, validate);
    assert.equal(incoming.kind, "application");
    if (incoming.kind !== "application") throw new Error("unreachable");
    assert.equal(new TextDecoder().decode(incoming.plaintext), body);
    assert.deepEqual(incoming.sender, from.device.member);
    assert.equal(incoming.epoch, groupEpoch(from.group));
    receivers.push(incoming.group);
  }
  return { sender: sent.group, receivers };
}

describe("group membership", () => {
  it("creates a group, adds two devices, and all three exchange messages", async (t) => {
    const started = performance.now();
    const { add, joined2, joinedBob, devices, groups, groupId, validate } = await aliceAndBob();
    t.diagnostic(`create + add 2 + 2 joins: ${(performance.now() - started).toFixed(1)} ms`);

    assert.deepEqual(add.added, [devices.alice2.member, devices.bob.member]);
    assert.equal(joined2.usedKeyPackageRef, devices.alice2.keyPackages[0]?.ref);
    assert.equal(joinedBob.usedKeyPackageRef, devices.bob.keyPackages[0]?.ref);
    for (const group of Object.values(groups)) {
      assert.equal(groupEpoch(group), 1n);
      assert.deepEqual(groupIdOf(group), groupId);
      assert.ok(isActive(group));
      assert.deepEqual(
        groupMembers(group).map((m) => [m.userId, m.deviceId, m.leafIndex]),
        [
          ["alice", "phone", 0],
          ["alice", "laptop", 1],
          ["bob", "phone", 2],
        ],
      );
    }
    assert.deepEqual(groupMembers(groups.bob)[2]?.signaturePublicKey, devices.bob.keys.signaturePublicKey);

    let { alice1, alice2, bob } = groups;
    const messageStart = performance.now();
    let r = await roundTrip(
      { group: alice1, device: devices.alice1 },
      [{ group: alice2 }, { group: bob }],
      "hi",
      validate,
    );
    alice1 = r.sender;
    [alice2, bob] = r.receivers as [MlsGroup, MlsGroup];
    r = await roundTrip(
      { group: bob, device: devices.bob },
      [{ group: alice1 }, { group: alice2 }],
      "hey",
      validate,
    );
    bob = r.sender;
    [alice1, alice2] = r.receivers as [MlsGroup, MlsGroup];
    await roundTrip(
      { group: alice2, device: devices.alice2 },
      [{ group: alice1 }, { group: bob }],
      "안녕",
      validate,
    );
    t.diagnostic(`3 messages x 2 receivers: ${(performance.now() - messageStart).toFixed(1)} ms`);

    // Same epoch, same exporter secret on every member; a different label gives a different secret.
    const label = "sori call media";
    const context = text("call-1");
    const a = await exportSecret(alice1, label, context, 32);
    assert.equal(a.length, 32);
    assert.deepEqual(await exportSecret(bob, label, context, 32), a);
    assert.notDeepEqual(await exportSecret(bob, "other", context, 32), a);
  });

  it("lets a member added later read new messages but not old ones", async () => {
    const { directory, validate, devices, groups } = await aliceAndBob();
    const carol = await makeDevice(directory, "carol", "tablet");
    const before = await encrypt(groups.alice1, text("before carol"));

    validate.calls.length = 0;
    const add = await addMembers(groups.bob, [kp(carol)], validate);
    assert.deepEqual(add.added, [carol.member]);
    assert.deepEqual(validate.calls, ["carol/tablet"]);

    validate.calls.length = 0;
    const seen = await processMessage(groups.alice2, add.commit, validate);
    assert.equal(seen.kind, "commit");
    if (seen.kind !== "commit") throw new Error("unreachable");
    assert.deepEqual(seen.sender, devices.bob.member);
    assert.deepEqual(seen.added, [carol.member]);
    assert.deepEqual(seen.removed, []);
    assert.equal(seen.selfRemoved, false);
    assert.equal(seen.epoch, 2n);
    assert.equal(groupEpoch(seen.group), 2n);
    // Only the new leaf is checked, not every member again (an add-only commit carries no path,
    // so the committer's leaf is unchanged).
    assert.deepEqual([...new Set(validate.calls)], ["carol/tablet"]);

    const alice1 = await processMessage(before.group, add.commit, validate);
    const joined = await joinFromWelcome(add.welcome, carol.keyPackages, carol.keys, validate);
    assert.equal(groupEpoch(joined.group), 2n);
    assert.equal(groupMembers(joined.group).length, 4);

    const r = await roundTrip(
      { group: alice1.group, device: devices.alice1 },
      [{ group: joined.group }, { group: add.group }, { group: seen.group }],
      "welcome carol",
      validate,
    );
    await roundTrip(
      { group: r.receivers[0] as MlsGroup, device: carol },
      [{ group: r.sender }],
      "thanks",
      validate,
    );

    // A message from before Carol joined is from an epoch she never had keys for.
    await rejectsWith(processMessage(joined.group, before.message, validate), "wrong-epoch");
  });

  it("removes a member, who learns it and cannot read later messages", async () => {
    const { directory, validate, devices, groups } = await aliceAndBob();
    await rejectsWith(removeMembers(groups.alice1, [{ userId: "mallory", deviceId: "x" }]), "not-member");
    await rejectsWith(removeMembers(groups.alice1, [devices.alice1.identity]), "not-member");

    const removal = await removeMembers(groups.alice1, [devices.bob.identity]);
    assert.deepEqual(removal.removed, [devices.bob.member]);
    assert.equal(groupEpoch(removal.group), 2n);
    assert.deepEqual(
      groupMembers(removal.group).map((m) => m.deviceId),
      ["phone", "laptop"],
    );

    const atBob = await processMessage(groups.bob, removal.commit, validate);
    assert.equal(atBob.kind, "commit");
    if (atBob.kind !== "commit") throw new Error("unreachable");
    assert.equal(atBob.selfRemoved, true);
    assert.deepEqual(atBob.removed, [devices.bob.member]);
    assert.deepEqual(atBob.sender, devices.alice1.member);
    assert.equal(atBob.epoch, 2n);
    assert.equal(isActive(atBob.group), false);

    const atAlice2 = await processMessage(groups.alice2, removal.commit, validate);
    assert.ok(atAlice2.kind === "commit" && !atAlice2.selfRemoved);
    assert.deepEqual(atAlice2.removed, [devices.bob.member]);

    const after = await roundTrip(
      { group: removal.group, device: devices.alice1 },
      [{ group: atAlice2.group }],
      "bob is gone",
      validate,
    );
    const secret = await encrypt(after.sender, text("secret"));
    await rejectsWith(processMessage(atBob.group, secret.message, validate), "not-member");
    await rejectsWith(encrypt(atBob.group, text("still here?")), "not-member");
    // Even Bob's state from before the removal has no keys for the new epoch.
    await rejectsWith(processMessage(groups.bob, secret.message, validate), "wrong-epoch");
    // And a fresh device of Bob's is not in the group either.
    directory.delete("bob/phone");
  });

  it("removes only the matching device of a user", async () => {
    const { validate, devices, groups } = await aliceAndBob();
    const removal = await removeMembers(groups.bob, [devices.alice2.identity]);
    assert.deepEqual(removal.removed, [devices.alice2.member]);
    const atAlice1 = await processMessage(groups.alice1, removal.commit, validate);
    assert.ok(atAlice1.kind === "commit" && !atAlice1.selfRemoved);
    assert.deepEqual(
      groupMembers(atAlice1.group).map((m) => `${m.userId}/${m.deviceId}`),
      ["alice/phone", "bob/phone"],
    );
    const atAlice2 = await processMessage(groups.alice2, removal.commit, validate);
    assert.ok(atAlice2.kind === "commit" && atAlice2.selfRemoved);
  });

  it("survives an encode/decode round trip and keeps messaging and committing", async (t) => {
    const { directory, validate, devices, groups } = await aliceAndBob();
    const encoded = encodeGroup(groups.bob);
    t.diagnostic(`encoded 3-member group state: ${encoded.length} bytes`);
    const bob = decodeGroup(encoded);
    assert.deepEqual(encodeGroup(bob), encoded);
    assert.equal(groupEpoch(bob), 1n);
    assert.deepEqual(groupMembers(bob), groupMembers(groups.bob));

    const r1 = await roundTrip(
      { group: groups.alice1, device: devices.alice1 },
      [{ group: bob }],
      "to disk",
      validate,
    );
    const r2 = await roundTrip(
      { group: r1.receivers[0] as MlsGroup, device: devices.bob },
      [{ group: r1.sender }],
      "and back",
      validate,
    );

    // A commit from someone else needs the credential check re-attached after decoding.
    const carol = await makeDevice(directory, "carol", "tablet");
    const add = await addMembers(r2.receivers[0] as MlsGroup, [kp(carol)], validate);
    const bobAgain = decodeGroup(encodeGroup(r2.sender));
    const seen = await processMessage(bobAgain, add.commit, validate);
    assert.ok(seen.kind === "commit");
    assert.deepEqual(seen.added, [carol.member]);

    await rejectsWith(
      Promise.resolve().then(() => decodeGroup(new Uint8Array([1, 2, 3]))),
      "malformed",
    );
    await rejectsWith(
      Promise.resolve().then(() => decodeGroup(encoded.subarray(0, encoded.length - 5))),
      "malformed",
    );
    await rejectsWith(
      Promise.resolve().then(() => decodeGroup(Uint8Array.of(9, ...encoded.subarray(1)))),
      "malformed",
    );
  });
});

describe("credential validation", () => {
  it("refuses to add a KeyPackage whose credential the validator rejects", async () => {
    const { validate, groups } = await aliceAndBob();
    // Mallory claims to be another device of Bob's, but her key is not in the directory.
    const mallory = await makeDevice(new Map(), "bob", "tablet");
    await rejectsWith(addMembers(groups.alice1, [kp(mallory)], validate), "invalid-credential");
    // Nothing was committed: the group is still usable at the same epoch.
    assert.equal(groupEpoch(groups.alice1), 1n);
    await encrypt(groups.alice1, text("still fine"));
  });

  it("refuses an expired KeyPackage", async (t) => {
    const { directory, validate, groups } = await aliceAndBob();
    const realNow = Date.now();
    t.mock.method(Date, "now", () => realNow - 100 * 24 * 3600 * 1000);
    const stale = await makeDevice(directory, "carol", "old-phone");
    t.mock.restoreAll();
    await rejectsWith(addMembers(groups.alice1, [kp(stale)], validate), "malformed");
  });

  it("makes a joiner fail when its validator rejects a member", async () => {
    const directory = new Map<string, Uint8Array>();
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const group = await createGroup(alice.identity, alice.keys, text("g"));
    const add = await addMembers(group, [kp(bob)], directoryValidator(directory));
    // Bob's view of the directory has a different key for Alice (e.g. a server lying to one side).
    const bobsDirectory = new Map(directory);
    bobsDirectory.set("alice/phone", (await makeDevice(new Map(), "x", "y")).keys.signaturePublicKey);
    await rejectsWith(
      joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, directoryValidator(bobsDirectory)),
      "invalid-credential",
    );
    // With an honest directory the same Welcome works.
    const joined = await joinFromWelcome(
      add.welcome,
      bob.keyPackages,
      bob.keys,
      directoryValidator(directory),
    );
    assert.equal(groupEpoch(joined.group), 1n);
  });

  it("rejects a commit that adds a device the receiver's validator rejects", async () => {
    const { directory, groups } = await aliceAndBob();
    const dave = await makeDevice(directory, "dave", "phone");
    const bobsDirectory = new Map(directory);
    bobsDirectory.delete("dave/phone");
    const add = await addMembers(groups.alice1, [kp(dave)], directoryValidator(directory));
    await rejectsWith(
      processMessage(groups.bob, add.commit, directoryValidator(bobsDirectory)),
      "invalid-credential",
    );
    assert.equal(groupEpoch(groups.bob), 1n);
  });

  it("reports a throwing validator as internal, not as a rejected credential", async () => {
    const { groups, directory } = await aliceAndBob();
    const carol = await makeDevice(directory, "carol", "tablet");
    const failing = async (): Promise<boolean> => {
      throw new Error("directory unreachable");
    };
    await rejectsWith(addMembers(groups.alice1, [kp(carol)], failing), "internal");
  });

  it("refuses a Welcome for none of our KeyPackages", async () => {
    const { directory, add, validate } = await aliceAndBob();
    const carol = await makeDevice(directory, "carol", "tablet");
    await rejectsWith(
      joinFromWelcome(add.welcome, carol.keyPackages, carol.keys, validate),
      "no-key-package",
    );
    await rejectsWith(joinFromWelcome(add.commit, carol.keyPackages, carol.keys, validate), "malformed");
  });
});
