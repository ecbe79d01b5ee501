import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkSender,
  decideCommit,
  decideCreateGroup,
  decideSend,
  type GroupState,
  memberUsers,
  type SendFacts,
} from "./delivery-rules.ts";

// Devices A1, A2 of user a and B1 of user b; the group holds A1 and B1 at epoch 3.
const member = (deviceId: string, revoked = false): GroupState["members"][number] => ({
  deviceId,
  userId: deviceId[0]!.toLowerCase(),
  revoked,
});
const group: GroupState = { epoch: 3, members: [member("A1"), member("B1")] };
const allActive = new Map([
  ["a", ["A1"]],
  ["b", ["B1"]],
]);
const facts = (extra: Partial<SendFacts> = {}): SendFacts => ({
  seen: undefined,
  group,
  activeDevices: allActive,
  blobsComplete: true,
  blobsSendable: true,
  ...extra,
});

describe("the Delivery Service's rules for a send", () => {
  it("accept a member at the current epoch, for every other member device", () => {
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 3 }, facts()), {
      status: "accept",
      epoch: 3,
      recipients: ["B1"],
    });
  });

  it("answer a resend as before, whatever changed since", () => {
    const resend = { status: "duplicate", sentAt: 42 };
    const seen = { acceptedAt: 42 };
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ seen })), resend);
    assert.deepEqual(
      decideSend({ senderDeviceId: "A1", epoch: 1 }, facts({ seen, group: undefined })),
      resend,
    );
  });

  it("refuse a device that is not an unrevoked member, then a stale epoch", () => {
    const notMember = { status: "not-member" };
    assert.deepEqual(decideSend({ senderDeviceId: "C1", epoch: 3 }, facts()), notMember);
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ group: undefined })), notMember);
    const revoked = { epoch: 3, members: [member("A1", true), member("B1")] };
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 2 }, facts({ group: revoked })), notMember);
    assert.deepEqual(decideSend({ senderDeviceId: "B1", epoch: 2 }, facts()), {
      status: "stale-epoch",
      epoch: 3,
    });
    assert.deepEqual(decideSend({ senderDeviceId: "B1", epoch: null }, facts()), {
      status: "stale-epoch",
      epoch: 3,
    });
  });

  it("refuse while a member user's active device is missing or a revoked one is still in", () => {
    const withA2 = new Map([...allActive, ["a", ["A1", "A2"]]]);
    assert.deepEqual(decideSend({ senderDeviceId: "B1", epoch: 3 }, facts({ activeDevices: withA2 })), {
      status: "group-outdated",
      missingDevices: ["A2"],
      revokedDevices: [],
    });
    const revokedB2 = { epoch: 3, members: [...group.members, member("B2", true)] };
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ group: revokedB2 })), {
      status: "group-outdated",
      missingDevices: [],
      revokedDevices: ["B2"],
    });
    assert.deepEqual(
      decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ group: revokedB2, activeDevices: withA2 })),
      { status: "group-outdated", missingDevices: ["A2"], revokedDevices: ["B2"] },
    );
  });

  it("refuse incomplete attachments only once the group is up to date", () => {
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ blobsComplete: false })), {
      status: "blob-missing",
    });
    assert.equal(
      decideSend({ senderDeviceId: "A1", epoch: 2 }, facts({ blobsComplete: false })).status,
      "stale-epoch",
    );
  });

  it("refuse attachments the sender neither uploaded nor received, after the completeness check", () => {
    assert.deepEqual(decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ blobsSendable: false })), {
      status: "blob-forbidden",
    });
    assert.equal(
      decideSend({ senderDeviceId: "A1", epoch: 3 }, facts({ blobsSendable: false, blobsComplete: false }))
        .status,
      "blob-missing",
    );
    assert.equal(
      decideSend(
        { senderDeviceId: "B1", epoch: 3 },
        { ...facts({ blobsSendable: false }), seen: { acceptedAt: 1 } },
      ).status,
      "duplicate",
      "a resend is answered as before",
    );
  });

  it("name each member user once, for the active-device lookup", () => {
    assert.deepEqual(memberUsers({ epoch: 1, members: [member("A1"), member("A2"), member("B1")] }), [
      "a",
      "b",
    ]);
    assert.deepEqual(memberUsers(undefined), []);
  });
});

describe("the Delivery Service's rules for a commit", () => {
  const seenNothing = { group, seen: undefined };

  it("accept one commit from the current epoch, for every other unrevoked member", () => {
    const withRevoked = { epoch: 3, members: [...group.members, member("C1", true), member("C2")] };
    assert.deepEqual(
      decideCommit({ senderDeviceId: "A1", fromEpoch: 3 }, { group: withRevoked, seen: undefined }),
      {
        status: "accept",
        epoch: 4,
        recipients: ["B1", "C2"],
      },
    );
    assert.deepEqual(decideCommit({ senderDeviceId: "B1", fromEpoch: 2 }, seenNothing), {
      status: "stale-epoch",
      epoch: 3,
    });
  });

  it("send a re-add commit to everyone but the device re-added (it gets the Welcome)", () => {
    const three = { epoch: 3, members: [...group.members, member("C2")] };
    assert.deepEqual(
      decideCommit(
        { senderDeviceId: "A1", fromEpoch: 3, readded: ["C2"] },
        { group: three, seen: undefined },
      ),
      { status: "accept", epoch: 4, recipients: ["B1"] },
    );
  });

  it("find a missing group first, then a resend, then a non-member", () => {
    const seen = { epoch: 3 };
    assert.deepEqual(decideCommit({ senderDeviceId: "A1", fromEpoch: 2 }, { group: undefined, seen }), {
      status: "not-found",
    });
    assert.deepEqual(decideCommit({ senderDeviceId: "C1", fromEpoch: 2 }, { group, seen }), {
      status: "duplicate",
      epoch: 3,
    });
    assert.deepEqual(decideCommit({ senderDeviceId: "C1", fromEpoch: 3 }, seenNothing), {
      status: "not-member",
    });
    const empty = { group: { epoch: 3, members: [] }, seen: undefined };
    assert.deepEqual(decideCommit({ senderDeviceId: "A1", fromEpoch: 3 }, empty), { status: "not-member" });
  });
});

describe("the Delivery Service's rules for creating a group and relaying", () => {
  it("create a group once, with its creator; a resend of the same Welcome is a duplicate", () => {
    const request = { creatorDeviceId: "A1", members: ["B1", "A1", "B1"] };
    assert.deepEqual(decideCreateGroup(request, { existingEpoch: undefined, welcomeSeen: false }), {
      status: "create",
      members: ["A1", "B1"],
    });
    assert.deepEqual(decideCreateGroup(request, { existingEpoch: 1, welcomeSeen: false }), {
      status: "exists",
    });
    assert.deepEqual(decideCreateGroup(request, { existingEpoch: 2, welcomeSeen: true }), {
      status: "duplicate",
      epoch: 2,
    });
  });

  it("let only an unrevoked member at the current epoch relay", () => {
    assert.equal(checkSender(group, "A1", 3), undefined);
    assert.deepEqual(checkSender(group, "A1", 4), { status: "stale-epoch", epoch: 3 });
    assert.deepEqual(checkSender({ epoch: 3, members: [member("A1", true)] }, "A1", 3), {
      status: "not-member",
    });
  });
});
