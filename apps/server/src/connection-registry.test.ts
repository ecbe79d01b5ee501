import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Connection } from "./connection.ts";
import { ConnectionRegistry } from "./connection-registry.ts";
import type { QueuedDelivery } from "./store/store.ts";

/** Just what the registry uses of a connection, recording what was done to it. */
type FakeConnection = Connection & { closedWith?: [number, string]; offered: number[]; notices: unknown[] };

function fake(userId: string, deviceId: string, unacked = 0): FakeConnection {
  const conn = {
    caller: { userId, deviceId, username: userId },
    unacked,
    offered: [] as number[],
    notices: [] as unknown[],
    closedWith: undefined as [number, string] | undefined,
    close(code: number, reason: string): void {
      conn.closedWith = [code, reason];
    },
    offer(d: QueuedDelivery): void {
      conn.offered.push(d.seq);
    },
    notify(frame: unknown): void {
      conn.notices.push(frame);
    },
  };
  // The registry touches only these members; the rest of Connection is not needed here.
  return conn as unknown as FakeConnection;
}

const delivery = (seq: number): QueuedDelivery => ({
  seq,
  kind: "message",
  groupId: "g",
  messageId: `m${seq}`,
  senderUserId: "u",
  senderDeviceId: "d",
  epoch: 1,
  data: null,
  sentAt: 1,
});

describe("ConnectionRegistry", () => {
  it("refuses an account's connection beyond the limit without closing any it holds", () => {
    const registry = new ConnectionRegistry(2);
    const [one, two, three] = [fake("u", "d1"), fake("u", "d2"), fake("u", "d3")];
    assert.equal(registry.attach(one), undefined);
    assert.equal(registry.attach(two), undefined);
    assert.equal(registry.attach(three)?.code, "too-many-connections");
    assert.deepEqual([one.closedWith, two.closedWith], [undefined, undefined]);
    assert.equal(registry.attach(fake("other", "e1")), undefined, "the limit is per account");
  });

  it("replaces a device's older connection, even at the limit, and keeps the newer on the old one's detach", () => {
    const registry = new ConnectionRegistry(1);
    const old = fake("u", "d1");
    const newer = fake("u", "d1");
    registry.attach(old);
    assert.equal(registry.attach(newer), undefined);
    assert.deepEqual(old.closedWith, [4000, "replaced by a newer connection of this device"]);
    registry.detach(old);
    registry.enqueued([{ deviceId: "d1", delivery: delivery(7) }]);
    assert.deepEqual([old.offered, newer.offered], [[], [7]]);
    assert.equal(registry.devices, 1);
  });

  it("fans entries, notices and relays out to connected devices only, and drops a revoked device", () => {
    const registry = new ConnectionRegistry(16);
    const a = fake("u", "d1", 3);
    const b = fake("v", "e1", 4);
    registry.attach(a);
    registry.attach(b);
    registry.enqueued([
      { deviceId: "d1", delivery: delivery(1) },
      { deviceId: "offline", delivery: delivery(2) },
    ]);
    registry.keyPackagesLow("e1", 2);
    assert.deepEqual([a.offered, b.notices], [[1], [{ type: "kp.low", remaining: 2 }]]);
    assert.equal(registry.unacked(), 7);
    registry.drop("e1", "device revoked");
    assert.deepEqual(b.closedWith, [4003, "device revoked"]);
    registry.detach(b);
    registry.detach(a);
    assert.equal(registry.devices, 0);
    assert.equal(registry.attach(fake("u", "d2")), undefined);
  });
});
