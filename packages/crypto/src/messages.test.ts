import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toBase64Url } from "./bytes.ts";
import {
  addMembers,
  CryptoError,
  type CryptoErrorCode,
  createGroup,
  encrypt,
  groupEpoch,
  joinFromWelcome,
  type MlsGroup,
  processMessage,
  readMessageHeader,
  removeMembers,
} from "./index.ts";
import { directoryValidator, makeDevice, text } from "./test-fixtures.ts";

async function rejectsWith(
  promise: Promise<unknown> | (() => unknown),
  code: CryptoErrorCode,
): Promise<void> {
  const run = typeof promise === "function" ? Promise.resolve().then(promise) : promise;
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof CryptoError, `expected CryptoError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Alice, Bob and Carol in one group at epoch 1. */
async function threeMembers() {
  const directory = new Map<string, Uint8Array>();
  const validate = directoryValidator(directory);
  const alice = await makeDevice(directory, "alice", "phone");
  const bob = await makeDevice(directory, "bob", "phone");
  const carol = await makeDevice(directory, "carol", "phone");
  const groupId = crypto.getRandomValues(new Uint8Array(32));
  const add = await addMembers(
    await createGroup(alice.identity, alice.keys, groupId),
    [bob, carol].map((d) => d.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()),
    validate,
  );
  const bobGroup = (await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate)).group;
  const carolGroup = (await joinFromWelcome(add.welcome, carol.keyPackages, carol.keys, validate)).group;
  return {
    directory,
    validate,
    groupId,
    add,
    devices: { alice, bob, carol },
    alice: add.group,
    bob: bobGroup,
    carol: carolGroup,
  };
}

describe("processMessage errors", () => {
  it("rejects a replayed application message and garbage with typed errors", async () => {
    const { validate, alice, bob } = await threeMembers();
    const sent = await encrypt(alice, text("once"));
    const first = await processMessage(bob, sent.message, validate);
    assert.equal(first.kind, "application");
    // Replaying against the updated state: the message key was consumed.
    await rejectsWith(processMessage(first.group, sent.message, validate), "decrypt-failed");

    await rejectsWith(processMessage(bob, new Uint8Array(), validate), "malformed");
    await rejectsWith(processMessage(bob, new Uint8Array(300).fill(0xab), validate), "malformed");
    await rejectsWith(processMessage(bob, sent.message.subarray(0, 40), validate), "malformed");
    await rejectsWith(processMessage(bob, Uint8Array.of(...sent.message, 0), validate), "malformed");

    // Tampering with the ciphertext (last byte) breaks authentication.
    const tampered = sent.message.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    await rejectsWith(processMessage(bob, tampered, validate), "decrypt-failed");
  });

  it("rejects a commit processed twice and messages for other groups or unknown epochs", async () => {
    const { directory, validate, alice, bob, carol } = await threeMembers();
    const dave = await makeDevice(directory, "dave", "phone");
    const add = await addMembers(
      alice,
      [dave.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()],
      validate,
    );
    const once = await processMessage(bob, add.commit, validate);
    await rejectsWith(processMessage(once.group, add.commit, validate), "wrong-epoch");

    // Epoch 2 message to a member still at epoch 1 (it missed the commit).
    const ahead = await encrypt(add.group, text("from the future"));
    await rejectsWith(processMessage(carol, ahead.message, validate), "wrong-epoch");

    // Same members, different group.
    const stranger = await makeDevice(new Map(), "alice", "phone");
    const other = await createGroup(stranger.identity, stranger.keys, text("other"));
    const elsewhere = await encrypt(other, text("wrong room"));
    await rejectsWith(processMessage(bob, elsewhere.message, validate), "wrong-group");

    // A Welcome or KeyPackage is not something processMessage takes.
    await rejectsWith(processMessage(bob, add.welcome, validate), "malformed");
  });

  it("still decrypts an application message from the previous epoch", async () => {
    const { validate, alice, bob, devices } = await threeMembers();
    const late = await encrypt(bob, text("sent just before the removal"));
    const removal = await removeMembers(alice, [devices.carol.identity]);
    const incoming = await processMessage(removal.group, late.message, validate);
    assert.ok(incoming.kind === "application");
    assert.equal(incoming.epoch, 1n);
    assert.equal(groupEpoch(incoming.group), 2n);
    assert.deepEqual(incoming.sender, devices.bob.member);
    assert.equal(new TextDecoder().decode(incoming.plaintext), "sent just before the removal");
  });

  it("fails a commit from a stale epoch when two members commit concurrently", async () => {
    const { directory, validate, alice, bob, carol, devices } = await threeMembers();
    const dave = await makeDevice(directory, "dave", "phone");
    // Both commit from epoch 1; the server orders Alice's first.
    const fromAlice = await addMembers(
      alice,
      [dave.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()],
      validate,
    );
    const fromBob = await removeMembers(bob, [devices.alice.identity]);

    const atCarol = await processMessage(carol, fromAlice.commit, validate);
    assert.equal(groupEpoch(atCarol.group), 2n);
    await rejectsWith(processMessage(atCarol.group, fromBob.commit, validate), "wrong-epoch");
    // Bob already moved to his own (losing) epoch 2, so Alice's commit does not apply there either...
    await rejectsWith(processMessage(fromBob.group, fromAlice.commit, validate), "wrong-epoch");
    // ...but his pre-commit state takes it, which is how the SDK recovers from a lost race.
    const recovered = await processMessage(bob, fromAlice.commit, validate);
    assert.ok(recovered.kind === "commit");
    assert.deepEqual(recovered.added, [dave.member]);
    assert.equal(groupEpoch(recovered.group), 2n);
  });

  it("does not decrypt a device's own echoed messages", async () => {
    const { directory, validate, alice } = await threeMembers();
    const sent = await encrypt(alice, text("echo"));
    // The sending ratchet already used this key: the SDK must recognise its own echoes itself.
    await rejectsWith(processMessage(sent.group, sent.message, validate), "decrypt-failed");
    const dave = await makeDevice(directory, "dave", "phone");
    const add = await addMembers(
      sent.group,
      [dave.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()],
      validate,
    );
    await rejectsWith(processMessage(add.group, add.commit, validate), "wrong-epoch");
  });

  it("refuses to work on a removed member's group", async () => {
    const { validate, alice, carol, devices } = await threeMembers();
    const removal = await removeMembers(alice, [devices.carol.identity]);
    const atCarol = await processMessage(carol, removal.commit, validate);
    assert.ok(atCarol.kind === "commit" && atCarol.selfRemoved);
    const group: MlsGroup = atCarol.group;
    await rejectsWith(removeMembers(group, [devices.alice.identity]), "not-member");
  });
});

describe("readMessageHeader", () => {
  it("reads group, epoch and content type of application messages and commits", async () => {
    const { directory, validate, groupId, alice, add, devices } = await threeMembers();
    const expectedGroup = toBase64Url(groupId);
    assert.equal(expectedGroup, Buffer.from(groupId).toString("base64url"));

    const app = await encrypt(alice, text("x"));
    assert.deepEqual(readMessageHeader(app.message), {
      wireFormat: "private",
      groupId: expectedGroup,
      epoch: 1n,
      contentType: "application",
    });

    const dave = await makeDevice(directory, "dave", "phone");
    const commit = await addMembers(
      app.group,
      [dave.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()],
      validate,
    );
    // A commit is framed with the epoch it was made in, not the one it creates.
    assert.deepEqual(readMessageHeader(commit.commit), {
      wireFormat: "private",
      groupId: expectedGroup,
      epoch: 1n,
      contentType: "commit",
    });
    assert.deepEqual(readMessageHeader(add.commit), {
      wireFormat: "private",
      groupId: expectedGroup,
      epoch: 0n,
      contentType: "commit",
    });
    assert.deepEqual(readMessageHeader(commit.welcome), {
      wireFormat: "welcome",
      groupId: undefined,
      epoch: undefined,
      contentType: undefined,
    });
    assert.equal(
      readMessageHeader(devices.bob.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()).wireFormat,
      "key-package",
    );

    await rejectsWith(() => readMessageHeader(new Uint8Array([0, 1, 0, 2])), "malformed");
    await rejectsWith(() => readMessageHeader(app.message.subarray(0, app.message.length - 1)), "malformed");
  });
});

describe("costs", () => {
  it("measures 1:1 messaging and membership operations", async (t) => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const carol = await makeDevice(directory, "carol", "phone");

    let start = performance.now();
    const created = await createGroup(alice.identity, alice.keys, text("1:1"));
    const add = await addMembers(
      created,
      [bob.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()],
      validate,
    );
    const addMs = performance.now() - start;
    start = performance.now();
    let bobGroup = (await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate)).group;
    const joinMs = performance.now() - start;

    let aliceGroup = add.group;
    const rounds = 100;
    start = performance.now();
    for (let i = 0; i < rounds; i++) {
      const body = `message ${i}`;
      const sent = await encrypt(aliceGroup, text(body));
      aliceGroup = sent.group;
      const got = await processMessage(bobGroup, sent.message, validate);
      assert.ok(got.kind === "application");
      assert.equal(new TextDecoder().decode(got.plaintext), body);
      bobGroup = got.group;
    }
    const perMessage = (performance.now() - start) / rounds;

    start = performance.now();
    const addCarol = await addMembers(
      aliceGroup,
      [carol.keyPackages[0]?.publicKeyPackage ?? new Uint8Array()],
      validate,
    );
    const commitMs = performance.now() - start;
    start = performance.now();
    const processed = await processMessage(bobGroup, addCarol.commit, validate);
    const processCommitMs = performance.now() - start;
    assert.ok(processed.kind === "commit");
    assert.equal(
      readMessageHeader((await encrypt(aliceGroup, text("short"))).message).contentType,
      "application",
    );

    t.diagnostic(
      `1:1 encrypt+decrypt ${perMessage.toFixed(2)} ms/msg; create+add ${addMs.toFixed(1)} ms; join ${joinMs.toFixed(1)} ms; ` +
        `add commit ${commitMs.toFixed(1)} ms; process commit ${processCommitMs.toFixed(1)} ms`,
    );
  });
});
