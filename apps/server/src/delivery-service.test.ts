import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { afterEach, beforeEach, describe, it } from "node:test";
import { DEFAULT_LIMITS, parseClientFrame, ProtocolError, toBase64, type WireRelay } from "@sori/protocol";
import { type DeliveryNotifier, DeliveryService } from "./delivery-service.ts";
import type { Logger } from "./logger.ts";
import type { Caller } from "./sessions.ts";
import type { SqliteStore } from "./store/sqlite-store.ts";
import type { Enqueued } from "./store/store.ts";
import { StoreError } from "./store/store-error.ts";
import {
  addApprovedDevice,
  addCompleteBlob,
  bytes,
  createTestUser,
  id,
  openFreshStore,
} from "./store/store-test-fixtures.ts";

type Request = Parameters<DeliveryService["handle"]>[1];

/** A request as the connection hands it over: parsed from its JSON, bytes as base64. */
const frame = (json: object): Request => parseClientFrame(JSON.stringify({ id: 1, ...json })) as Request;
const b64 = (...b: number[]): string => toBase64(bytes(...b));

/** What the service told the socket layer, per kind. */
class RecordingNotifier implements DeliveryNotifier {
  readonly enqueuedFor: string[][] = [];
  readonly low: [string, number][] = [];
  readonly relays: [string[], WireRelay][] = [];
  enqueued(entries: Enqueued): void {
    this.enqueuedFor.push(entries.map((e) => e.deviceId));
  }
  keyPackagesLow(deviceId: string, remaining: number): void {
    this.low.push([deviceId, remaining]);
  }
  relay(deviceIds: string[], relayed: WireRelay): void {
    this.relays.push([deviceIds, relayed]);
  }
  readonly signedOutDevices: string[] = [];
  signedOut(deviceIds: string[]): void {
    this.signedOutDevices.push(...deviceIds);
  }
}

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Resolves to the ProtocolError (or StoreError) the request was refused with. */
async function refusal(request: Promise<unknown>): Promise<ProtocolError | StoreError> {
  try {
    await request;
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof StoreError) return error;
    throw error;
  }
  assert.fail("the request was accepted");
}

describe("DeliveryService over the Store", { timeout: 20_000 }, () => {
  let dir: string;
  let store: SqliteStore;
  let notifier: RecordingNotifier;
  let service: DeliveryService;
  let now: number;
  const limits = {
    ...DEFAULT_LIMITS,
    keyPackageClaimsPerMinute: 3,
    messagesPerMinute: 8,
    maxKeyPackagesPerDevice: 4,
  };
  const alice: Caller = {
    userId: id("a"),
    deviceId: id("A"),
    username: "usera",
    address: "192.0.2.1",
    approved: true,
  };
  const bob: Caller = { userId: id("b"), deviceId: id("B"), username: "userb", approved: true };
  const bobsLaptop: Caller = { userId: id("b"), deviceId: id("C"), username: "userb", approved: true };

  /** Uploads `n` KeyPackages and a last-resort one: the device becomes active. */
  const activate = (caller: Caller, n = 2): Promise<unknown> =>
    service.handle(
      caller,
      frame({
        type: "kp.upload",
        keyPackages: Array.from({ length: n }, (_, i) => b64(caller.deviceId.charCodeAt(0), i)),
        lastResort: b64(caller.deviceId.charCodeAt(0), 99),
      }),
    );
  const createGroup = (caller: Caller, members: string[]): Promise<unknown> =>
    service.handle(
      caller,
      frame({
        type: "group.create",
        groupId: id("g"),
        epoch: 1,
        members,
        ...(members.length > 0 ? { welcome: b64(1) } : {}),
      }),
    );
  const send = (caller: Caller, messageId: string, extra: object = {}): Promise<unknown> =>
    service.handle(
      caller,
      frame({ type: "send", groupId: id("g"), epoch: 1, messageId: id(messageId), data: b64(7), ...extra }),
    );

  beforeEach(async () => {
    ({ dir, store } = openFreshStore());
    notifier = new RecordingNotifier();
    now = 1_000_000;
    service = new DeliveryService({ store, limits, log: silent, notifier, now: () => now });
    await createTestUser(store, "a", "A");
    await createTestUser(store, "b", "B");
    await activate(alice);
    await activate(bob);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("queues a message once for every other member device and answers a resend as a duplicate", async () => {
    await createGroup(alice, [id("B")]);
    assert.deepEqual(notifier.enqueuedFor, [[id("B")]], "the Welcome went to bob");
    assert.deepEqual(await send(alice, "m"), { messageId: id("m"), sentAt: now, duplicate: false });
    now += 5;
    assert.deepEqual(await send(alice, "m"), { messageId: id("m"), sentAt: now - 5, duplicate: true });
    assert.deepEqual(notifier.enqueuedFor, [[id("B")], [id("B")]], "the resend was not queued again");
    assert.deepEqual(
      (await store.pending(id("B"), 0, 10)).map((d) => d.kind),
      ["welcome", "message"],
    );
  });

  it("refuses a sender outside the group, a stale epoch and an oversized message", async () => {
    await createGroup(alice, []);
    const outsider = await refusal(send(bob, "x"));
    assert.equal(outsider.code, "not-member");
    const stale = await refusal(send(alice, "y", { epoch: 0 }));
    assert.deepEqual([stale.code, (stale as ProtocolError).details], ["stale-epoch", { epoch: 1 }]);
    const big = await refusal(
      send(alice, "z", { data: toBase64(new Uint8Array(limits.maxMessageBytes + 1)) }),
    );
    assert.deepEqual(
      [big.code, (big as ProtocolError).details],
      ["too-large", { limit: limits.maxMessageBytes }],
    );
  });

  it("refuses sends while a member user's new device is missing, naming it, until a commit adds it", async () => {
    await createGroup(alice, [id("B")]);
    await addApprovedDevice(store, "b", "C", { name: "laptop", signatureKey: bytes(3), at: 2 });
    await activate(bobsLaptop);
    assert.deepEqual(notifier.enqueuedFor.at(-1), [id("B")], "bob's other device heard of the new one");
    const outdated = await refusal(send(alice, "n"));
    assert.deepEqual(
      [outdated.code, (outdated as ProtocolError).details],
      ["group-outdated", { missingDevices: [id("C")], revokedDevices: [] }],
    );
    const commit = frame({
      type: "group.commit",
      groupId: id("g"),
      epoch: 1,
      commit: b64(9),
      welcome: b64(8),
      add: [id("C")],
      remove: [],
    });
    assert.deepEqual(await service.handle(alice, commit), { groupId: id("g"), epoch: 2 });
    assert.deepEqual(await service.handle(alice, commit), { groupId: id("g"), epoch: 2 }, "a resent commit");
    const late = await refusal(service.handle(bob, { ...commit, add: [] } as Request));
    assert.deepEqual([late.code, (late as ProtocolError).details], ["stale-epoch", { epoch: 2 }]);
    assert.deepEqual(await send(alice, "n", { epoch: 2 }), {
      messageId: id("n"),
      sentAt: now,
      duplicate: false,
    });
  });

  it("clamps a disappearing message's expiry to the longest timer, and its attachments' too", async () => {
    await createGroup(alice, [id("B")]);
    const week = 7 * 86_400_000;
    await addCompleteBlob(store, "f", "A", now);
    // Year 255,479: accepted, but kept no longer than a week and five minutes.
    await send(alice, "y", { expiresAt: 8e15, blobs: [id("f")] });
    assert.equal((await store.getBlob(id("f")))?.expiresAt, now + week + 300_000);
    assert.equal(await store.purgeExpiredMessages(now + week + 300_000 - 1, 10), 0);
    assert.equal(await store.purgeExpiredMessages(now + week + 300_000, 10), 1, "purged then");
    // An expiry within the week stays as the sender gave it.
    await send(alice, "z", { expiresAt: now + 60_000 });
    assert.equal(await store.purgeExpiredMessages(now + 60_000, 10), 1);
  });

  it("relays a transient message to the other members without storing it", async () => {
    await createGroup(alice, [id("B")]);
    await store.ack(id("B"), Number.MAX_SAFE_INTEGER);
    assert.deepEqual(await send(alice, "t", { transient: true }), {
      messageId: id("t"),
      sentAt: now,
      duplicate: false,
    });
    assert.deepEqual(notifier.relays, [
      [
        [id("B")],
        {
          type: "relay",
          groupId: id("g"),
          messageId: id("t"),
          from: { userId: id("a"), deviceId: id("A") },
          epoch: 1,
          data: b64(7),
          sentAt: now,
        },
      ],
    ]);
    assert.deepEqual(await store.pending(id("B"), 0, 10), [], "nothing was queued");
    assert.equal((await refusal(send(bob, "u", { transient: true, epoch: 3 }))).code, "stale-epoch");
  });

  it("limits messages per device with a token bucket that refills with time", async () => {
    await createGroup(alice, [id("B")]);
    // A burst of a quarter of the per-minute rate, then one per 60 s / 8.
    for (const m of ["h", "i"]) await send(alice, m);
    const limited = await refusal(send(alice, "o"));
    assert.deepEqual(
      [limited.code, (limited as ProtocolError).details],
      ["rate-limited", { retryAfterS: 8 }],
    );
    now += 7_500;
    assert.equal(((await send(alice, "l")) as { duplicate: boolean }).duplicate, false);
  });

  it("hands out KeyPackages per claimed device under a per-account limit, warning when they run low", async () => {
    const claim = (deviceIds: string[]): Promise<unknown> =>
      service.handle(alice, frame({ type: "kp.claim", deviceIds }));
    const first = (await claim([id("B"), id("Z")])) as {
      keyPackages: { deviceId: string }[];
      missing: string[];
    };
    assert.deepEqual([first.keyPackages.map((k) => k.deviceId), first.missing], [[id("B")], [id("Z")]]);
    assert.deepEqual(notifier.low, [[id("B"), 1]]);
    await claim([id("B")]);
    const limited = await refusal(claim([id("B")]));
    assert.equal(limited.code, "rate-limited", "three devices claimed this minute");
  });

  it("past its hourly budget per device a claimer gets the reusable last-resort KeyPackage; others are unaffected", async () => {
    const pairs = new DeliveryService({
      store,
      limits: { ...limits, keyPackageClaimsPerMinute: 100, keyPackageClaimsPerPairPerHour: 1 },
      log: silent,
      notifier,
      now: () => now,
    });
    const claimOne = async (caller: Caller, deviceId: string): Promise<string> => {
      const r = (await pairs.handle(caller, frame({ type: "kp.claim", deviceIds: [deviceId] }))) as {
        keyPackages: { keyPackage: string }[];
      };
      return r.keyPackages[0]!.keyPackage;
    };
    const lastResort = b64("B".charCodeAt(0), 99);
    await activate(bob, 4);
    assert.equal((await store.keyPackageStatus(id("B"))).remaining, 4);
    assert.notEqual(await claimOne(alice, id("B")), lastResort, "the first is a one-time one");
    for (let i = 0; i < 5; i++) assert.equal(await claimOne(alice, id("B")), lastResort);
    assert.equal((await store.keyPackageStatus(id("B"))).remaining, 3, "one consumed, the rest kept");
    // Another account has a budget of its own.
    await createTestUser(store, "c", "D");
    const carol: Caller = { userId: id("c"), deviceId: id("D"), username: "userc", approved: true };
    assert.notEqual(await claimOne(carol, id("B")), lastResort);
    assert.equal((await store.keyPackageStatus(id("B"))).remaining, 2);
    // Bob's own new device is not counted against bob: it joins all his chats at once.
    await addApprovedDevice(store, "b", "C", { name: "laptop", signatureKey: bytes(3), at: 2 });
    await activate(bobsLaptop, 3);
    for (let i = 0; i < 3; i++) assert.notEqual(await claimOne(bob, id("C")), b64("C".charCodeAt(0), 99));
    // An hour later the budget has refilled (a second more: the refill is a float).
    now += 3_601_000;
    assert.notEqual(await claimOne(alice, id("B")), lastResort);
    assert.equal((await store.keyPackageStatus(id("B"))).remaining, 1);
  });

  it("counts every name and id looked up in the directory against the account's per-minute limit", async () => {
    const lookups = new DeliveryService({
      store,
      limits: { ...limits, directoryLookupsPerMinute: 5 },
      log: silent,
      notifier,
      now: () => now,
    });
    const lookUp = (caller: Caller, json: object): Promise<unknown> =>
      lookups.handle(caller, frame({ type: "dir.users", ...json }));
    // Three names (the same one twice in another case counts once) and two ids: the minute's five.
    await lookUp(alice, { usernames: ["userb", "USERB", "nobody", "x.y"] });
    await lookUp(alice, { userIds: [id("b"), id("q")] });
    const limited = await refusal(lookUp(alice, { usernames: ["userb"] }));
    assert.deepEqual(
      [limited.code, (limited as ProtocolError).details, limited.message],
      ["rate-limited", { retryAfterS: 60 }, "too many directory look-ups; retry in 60 s"],
    );
    assert.equal(((await lookUp(bob, { usernames: ["usera"] })) as { users: unknown[] }).users.length, 1);
    now += 60_000;
    await lookUp(alice, { usernames: ["userb"] });
  });

  it("lets a StoreError pass for the edge to translate, the KeyPackage cap with its number", async () => {
    const over = await refusal(activate(alice, limits.maxKeyPackagesPerDevice + 1));
    assert.ok(over instanceof StoreError);
    assert.deepEqual([over.code, over.limit], ["limit", limits.maxKeyPackagesPerDevice]);
  });

  it("marks the accounts the operator runs as gateways, and only those", async () => {
    const marking = new DeliveryService({
      store,
      limits,
      log: silent,
      notifier,
      now: () => now,
      gateways: ["userb"],
    });
    const found = (await marking.handle(
      alice,
      frame({ type: "dir.users", usernames: ["userA", "userB"] }),
    )) as {
      users: { username: string; gateway?: boolean }[];
    };
    assert.deepEqual(found.users.map((u) => [u.username.toLowerCase(), u.gateway ?? false]).sort(), [
      ["usera", false],
      ["userb", true],
    ]);
  });

  it("lists only active devices in the directory and tells a non-member nothing of a group", async () => {
    await createGroup(alice, []);
    await addApprovedDevice(store, "b", "C", { name: "laptop", signatureKey: bytes(3), at: 2 });
    const found = (await service.handle(
      alice,
      frame({ type: "dir.users", usernames: ["USERB", "nobody"] }),
    )) as {
      users: { devices: { deviceId: string }[] }[];
      unknown: string[];
    };
    assert.deepEqual(
      [found.users.map((u) => u.devices.map((d) => d.deviceId)), found.unknown],
      [[[id("B")]], ["nobody"]],
    );
    assert.equal(
      (await refusal(service.handle(bob, frame({ type: "group.info", groupId: id("g") })))).code,
      "not-member",
    );
  });
});
