import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "./sqlite-store.ts";
import type { BlobQuota, DeviceNotice, OutgoingMessage, Store } from "./store.ts";

// Shared set-up for the SqliteStore tests beside this file (imported only by *.test.ts).

export const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** A 22-character id made of one repeated character, so tests can name users, devices and groups by a letter. */
export const id = (c: string): string => c.repeat(22);

/** A fresh temporary data directory for a store; the test removes it. */
export function tempStoreDir(): string {
  return mkdtempSync(join(tmpdir(), "sori-store-"));
}

/** A new store (durability "normal") in a fresh temporary directory; the test closes it and removes the directory. */
export function openFreshStore(): { dir: string; store: SqliteStore } {
  const dir = tempStoreDir();
  return { dir, store: new SqliteStore({ dataDir: dir, durability: "normal" }) };
}

/** No cap on attachment bytes, for tests about something else. */
export const NO_QUOTA: BlobQuota = { accountBytes: 0, totalBytes: 0 };

/** A completely uploaded 1-byte blob `b` of device `d`, uploaded at `at`, expiring a millisecond later. */
export async function addCompleteBlob(store: Store, b: string, d: string, at: number): Promise<void> {
  await store.createBlob(
    { blobId: id(b), ownerDevice: id(d), size: 1, createdAt: at, expiresAt: at + 1 },
    NO_QUOTA,
  );
  await store.setBlobReceived(id(b), 1);
}

/** A stand-in account key and certificate: the store keeps them; checking them is the caller's job. */
const ACCOUNT_KEY = new Uint8Array(32).fill(7);
const CERTIFICATE = new Uint8Array(64).fill(8);

/**
 * Creates user `u` ("user<u>") with its one device `d` and a session token "t<d>"; the device then sets
 * the account key (approved), unless `approve` is false (one write only, for tests that count them).
 */
export async function createTestUser(store: Store, u: string, d: string, approve = true): Promise<void> {
  await store.createUserWithDevice(
    { userId: id(u), username: `user${u}`, passwordHash: "scrypt$x", createdAt: 1, accountKey: null },
    { deviceId: id(d), userId: id(u), name: "d", signatureKey: bytes(1), createdAt: 1 },
    { tokenHash: `t${d}`, deviceId: id(d), createdAt: 1, expiresAt: 10 },
  );
  if (approve)
    await store.initAccountKey({
      userId: id(u),
      deviceId: id(d),
      accountKey: ACCOUNT_KEY,
      certificate: CERTIFICATE,
      now: 1,
    });
}

/** Signs device `d` in to user `u` and has the account approve it (not active until it uploads KeyPackages). */
export async function addApprovedDevice(
  store: Store,
  u: string,
  d: string,
  options: { name?: string; signatureKey?: Uint8Array; at?: number } = {},
): Promise<void> {
  const at = options.at ?? 2;
  await store.addDevice(
    {
      deviceId: id(d),
      userId: id(u),
      name: options.name ?? "laptop",
      signatureKey: options.signatureKey ?? bytes(2),
      createdAt: at,
      transferKey: bytes(5),
    },
    { tokenHash: `t${d}`, deviceId: id(d), createdAt: at, expiresAt: 10 },
    10,
    notice("device-pending", u, d, at),
  );
  await store.approveDevice(id(u), id(d), CERTIFICATE, bytes(6), at, notice("device-approved", u, d, at));
}

function notice(kind: "device-pending" | "device-approved", u: string, d: string, at: number): DeviceNotice {
  return {
    kind,
    groupId: null,
    messageId: id(`${kind === "device-pending" ? "p" : "q"}${d}`.slice(-1)),
    senderUserId: id(u),
    senderDeviceId: id(d),
    epoch: null,
    data: null,
    sentAt: at,
  };
}

/** The "device added" notice device `d` of user `u` sends when it first uploads KeyPackages. */
function deviceAddedNotice(d: string, u: string): OutgoingMessage {
  return {
    kind: "device-added",
    groupId: null,
    messageId: id(`n${d}`.slice(-1)),
    senderUserId: id(u),
    senderDeviceId: id(d),
    epoch: null,
    data: null,
    sentAt: 5,
    recipients: [],
  };
}

/** Uploads `count` KeyPackages and a last-resort one for device `d` of user `u`, with its notice. */
export function addTestKeyPackages(
  store: SqliteStore,
  d: string,
  u: string,
  count: number,
): ReturnType<SqliteStore["addKeyPackages"]> {
  const c = d.charCodeAt(0);
  return store.addKeyPackages(
    id(d),
    Array.from({ length: count }, (_, i) => bytes(c, i + 1)),
    bytes(c, 99),
    deviceAddedNotice(d, u),
    200,
  );
}
