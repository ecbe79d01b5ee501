import assert from "node:assert/strict";
import { test } from "node:test";
import { type ConnectionKey, ConnectionRegistry } from "./connection-registry.ts";

type Fake = { closed: boolean; close(): void };
const fake = (): Fake => ({
  closed: false,
  close() {
    this.closed = true;
  },
});
const key = (address: string, port: number): ConnectionKey => ({ transport: "TCP", address, port });

test("a connection is found again by its peer's transport, address and port", () => {
  const r = new ConnectionRegistry<Fake>({ maxTotal: 10, maxPerAddress: 10, idleMs: 1000 });
  const c = fake();
  assert.equal(r.admit(key("10.0.0.1", 5070), c, 0), undefined);
  assert.equal(r.get(key("10.0.0.1", 5070)), c);
  assert.equal(r.get(key("10.0.0.1", 5071)), undefined);
  assert.equal(r.get({ transport: "TLS", address: "10.0.0.1", port: 5070 }), undefined);
  r.remove(key("10.0.0.1", 5070), c);
  assert.equal(r.get(key("10.0.0.1", 5070)), undefined);
  assert.equal(r.size, 0);
});

test("caps: per address and in total; a closed connection frees its place", () => {
  const r = new ConnectionRegistry<Fake>({ maxTotal: 3, maxPerAddress: 2, idleMs: 1000 });
  const a1 = fake();
  assert.equal(r.admit(key("10.0.0.1", 1), a1, 0), undefined);
  assert.equal(r.admit(key("10.0.0.1", 2), fake(), 0), undefined);
  assert.equal(r.admit(key("10.0.0.1", 3), fake(), 0), "per-address");
  assert.equal(r.admit(key("10.0.0.2", 1), fake(), 0), undefined);
  assert.equal(r.admit(key("10.0.0.3", 1), fake(), 0), "total");
  r.remove(key("10.0.0.1", 1), a1);
  assert.equal(r.admit(key("10.0.0.1", 3), fake(), 0), undefined);
  assert.equal(r.size, 3);
});

test("idle connections are closed by the sweep; a touched or kept one is not", () => {
  const r = new ConnectionRegistry<Fake>({ maxTotal: 10, maxPerAddress: 10, idleMs: 1000 });
  const idle = fake();
  const busy = fake();
  const kept = fake();
  r.admit(key("10.0.0.1", 1), idle, 0);
  r.admit(key("10.0.0.1", 2), busy, 0);
  r.admit(key("10.0.0.1", 3), kept, 0);
  r.keepUntil(key("10.0.0.1", 3), 5000);
  r.touch(key("10.0.0.1", 2), 900);
  assert.equal(r.sweep(1500), 1);
  assert.deepEqual([idle.closed, busy.closed, kept.closed], [true, false, false]);
  assert.equal(r.sweep(2000), 1);
  assert.equal(busy.closed, true);
  assert.equal(r.sweep(4999), 0);
  assert.equal(r.sweep(5000), 1);
  assert.equal(kept.closed, true);
  assert.equal(r.size, 0);
});

test("a new connection from the same address and port replaces (and closes) the old one", () => {
  const r = new ConnectionRegistry<Fake>({ maxTotal: 10, maxPerAddress: 1, idleMs: 1000 });
  const old = fake();
  const next = fake();
  r.admit(key("10.0.0.1", 1), old, 0);
  assert.equal(r.admit(key("10.0.0.1", 1), next, 0), undefined);
  assert.equal(old.closed, true);
  assert.equal(r.get(key("10.0.0.1", 1)), next);
  // The old one's close event comes later: it must not drop the new one.
  r.remove(key("10.0.0.1", 1), old);
  assert.equal(r.get(key("10.0.0.1", 1)), next);
  r.closeAll();
  assert.equal(next.closed, true);
});
