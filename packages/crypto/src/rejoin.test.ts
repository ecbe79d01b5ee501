import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addMembers,
  commitChanges,
  createGroup,
  generateDeviceKeys,
  generateKeyPackage,
  joinFromWelcome,
  processMessage,
  rejoinRequest,
  verifyRejoinRequest,
} from "./index.ts";
import { directoryValidator, makeDevice, text } from "./test-fixtures.ts";

describe("rejoin requests", () => {
  it("name the requester's current leaf, verify only at its members, and stop once it was re-added", async () => {
    const directory = new Map<string, Uint8Array>();
    const validate = directoryValidator(directory);
    const alice = await makeDevice(directory, "alice", "phone");
    const bob = await makeDevice(directory, "bob", "phone");
    const carol = await makeDevice(directory, "carol", "phone");
    const g = await createGroup(alice.identity, alice.keys, text("rj"));
    const add = await addMembers(
      g,
      [bob.keyPackages[0]!.publicKeyPackage, carol.keyPackages[0]!.publicKeyPackage],
      validate,
    );
    const atCarol = (await joinFromWelcome(add.welcome, carol.keyPackages, carol.keys, validate)).group;
    const atBob = (await joinFromWelcome(add.welcome, bob.keyPackages, bob.keys, validate)).group;

    const request = rejoinRequest(atCarol, carol.keys);
    assert.deepEqual(verifyRejoinRequest(add.group, request), carol.member, "alice accepts it");
    assert.deepEqual(verifyRejoinRequest(atBob, request), carol.member, "bob too");
    assert.equal(verifyRejoinRequest(atCarol, request), undefined, "not carol herself");

    // Forged: signed with another key, or altered, or for another group.
    const forged = rejoinRequest(atCarol, await generateDeviceKeys());
    assert.equal(verifyRejoinRequest(add.group, forged), undefined);
    const altered = request.slice();
    altered[10]! ^= 1;
    assert.equal(verifyRejoinRequest(add.group, altered), undefined);
    assert.equal(verifyRejoinRequest(add.group, request.subarray(0, 20)), undefined);
    const other = await createGroup(alice.identity, alice.keys, text("elsewhere"));
    assert.equal(verifyRejoinRequest(other, request), undefined);

    // Alice re-adds carol; the same request no longer matches at alice or (once processed) at bob.
    const fresh = await generateKeyPackage(carol.identity, carol.keys);
    const readd = await commitChanges(
      add.group,
      { remove: [carol.member], add: [fresh.publicKeyPackage] },
      validate,
    );
    assert.equal(verifyRejoinRequest(readd.group, request), undefined);
    const bobAfter = await processMessage(atBob, readd.commit, validate);
    assert.equal(verifyRejoinRequest(bobAfter.group, request), undefined);
  });
});
