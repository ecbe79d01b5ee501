import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "./sqlite-store.ts";
import type { OutgoingMessage } from "./store.ts";

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

/** Creates user `u` ("user<u>") with its one device `d` and a session token "t<d>". */
export async function createTestUser(store: SqliteStore, u: string, d: string): Promise<void> {
  await store.createUserWithDevice(
    { userId: id(u), username: `user${u}`, passwordHash: "scrypt$x", createdAt: 1 },
    { deviceId: id(d), userId: id(u), name: "d", signatureKey: bytes(1), createdAt: 1 },
    { tokenHash: `t${d}`, deviceId: id(d), createdAt: 1, expiresAt: 10 },
  );
}

/** The "device added" notice device `d` of user `u` sends when it first uploads KeyPackages. */
export function deviceAddedNotice(d: string, u: string): OutgoingMessage {
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
