import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before } from "node:test";
import { type AccountKeys, certifyDevice, generateAccountKeys, generateDeviceKeys } from "@sori/crypto";
import { toBase64 } from "@sori/protocol";
import { type ChatMessage, type ChatSummary, MemoryStorage, SoriClient } from "@sori/sdk";
import { createLogger, parseServerConfig, type RunningServer, startServer } from "@sori/server";
import { authedSocket } from "./raw-socket.ts";

/** A real server on 127.0.0.1 with a fresh data dir; its log lines are kept for inspection. */
export type TestServer = {
  server: RunningServer;
  url: string;
  dataDir: string;
  logs: string[];
  /**
   * Restarts on the same port and data dir, optionally with other extra arguments; `whileDown` runs
   * between stop and start (to change the database as an operator could).
   */
  restart(args?: string[], whileDown?: () => void): Promise<void>;
  stop(): Promise<void>;
};

export async function startTestServer(extraArgs: string[] = []): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "sori-test-"));
  const logs: string[] = [];
  let port = 0;
  let args = extraArgs;
  const boot = async (): Promise<RunningServer> => {
    const config = parseServerConfig(
      ["--host", "127.0.0.1", "--port", String(port), "--data", dataDir, "--durability", "normal", ...args],
      {},
    );
    const s = await startServer(
      config,
      createLogger("debug", (l) => logs.push(l)),
    );
    port = s.port;
    return s;
  };
  const t: TestServer = {
    server: await boot(),
    url: "",
    dataDir,
    logs,
    restart: async (nextArgs?: string[], whileDown?: () => void) => {
      if (nextArgs) args = nextArgs;
      await t.server.close();
      whileDown?.();
      t.server = await boot();
    },
    stop: async () => {
      await t.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.url = t.server.url;
  return t;
}

export const PASSWORD = "correct horse battery";

/**
 * One server for the enclosing `describe`: started in its `before`, stopped in its `after`. The returned
 * object reads through to that server, so tests use it as they would a TestServer they started themselves.
 */
export function suiteServer(extraArgs: string[] = []): TestServer {
  let inner: TestServer | undefined;
  before(async () => {
    inner = await startTestServer(extraArgs);
  });
  after(async () => {
    await inner?.stop();
  });
  const get = (): TestServer => {
    if (!inner) throw new Error("suiteServer used outside its describe's tests");
    return inner;
  };
  return {
    get server() {
      return get().server;
    },
    get url() {
      return get().url;
    },
    get dataDir() {
      return get().dataDir;
    },
    get logs() {
      return get().logs;
    },
    restart: (args, whileDown) => get().restart(args, whileDown),
    stop: () => get().stop(),
  };
}

/** Polls `get` (bounded by `timeoutMs`) until `ok` holds for its value; returns that value. */
export async function waitFor<T>(
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in time; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const storages = new WeakMap<SoriClient, MemoryStorage>();

async function openConnected(storage: MemoryStorage): Promise<SoriClient> {
  const client = await SoriClient.open(storage);
  storages.set(client, storage);
  await client.connect();
  return client;
}

/** Registers a user with in-memory storage and connects it. */
export async function newUser(url: string, username: string): Promise<SoriClient> {
  const storage = new MemoryStorage();
  await SoriClient.register({ serverUrl: url, username, password: PASSWORD, storage, deviceName: "test" });
  return openConnected(storage);
}

/** A bridged identity made by `gateway` and opened, connected, as a gateway would run it. */
export async function bridgedIdentity(gateway: SoriClient, username: string): Promise<SoriClient> {
  const storage = new MemoryStorage();
  await gateway.createBridgedIdentity({ username, storage });
  return openConnected(storage);
}

/** Registers two users (connected), for the many tests of one conversation between two people. */
export async function twoUsers(
  url: string,
  first: string,
  second: string,
): Promise<[SoriClient, SoriClient]> {
  const a = await newUser(url, first);
  const b = await newUser(url, second);
  return [a, b];
}

/** `from` starts a direct chat with `to` and waits (bounded) until `peer`, a device of `to`, has it too. */
export async function directChatSeenBy(from: SoriClient, to: string, peer: SoriClient): Promise<ChatSummary> {
  const chat = await from.startDirectChat(to);
  await waitFor(
    () => peer.findChat(chat.id),
    (c) => c !== undefined,
  );
  return chat;
}

/**
 * Logs in a further device of an existing user, has `approver` (a signed-in device of that user)
 * approve it, and returns it connected and active.
 */
/** A password sign-in of `username` on a new device, connected; it waits for approval (or a reset). */
export async function signInWaiting(url: string, username: string, deviceName: string): Promise<SoriClient> {
  const storage = new MemoryStorage();
  await SoriClient.login({ serverUrl: url, username, password: PASSWORD, storage, deviceName });
  return openConnected(storage);
}

export async function newDevice(
  url: string,
  approver: SoriClient,
  deviceName = "second",
): Promise<SoriClient> {
  const device = await signInWaiting(url, approver.username, deviceName);
  try {
    assert.equal(device.approval, "pending", "a password sign-in waits for approval");
    await approver.approveDevice(device.deviceId);
    await device.waitForApproval({ timeoutMs: 10_000 });
    return device;
  } catch (error) {
    await device.close();
    throw error;
  }
}

/** The same device again (as after a restart of the app), connected. The old client must be closed. */
export function reopen(client: SoriClient): Promise<SoriClient> {
  const storage = storages.get(client);
  if (!storage) throw new Error("not a test client");
  return openConnected(storage);
}

/** A device's stored MLS state of a group (relies on the SDK's storage layout: "group/<id>"). */
export async function storedGroupState(client: SoriClient, groupId: string): Promise<Uint8Array> {
  const bytes = await storages.get(client)?.get(`group/${groupId}`);
  if (!bytes) throw new Error("no stored group state");
  return bytes;
}

/** Every stored value of a test client's storage, decoded as text (for "nothing left at rest" checks). */
export async function storedText(client: SoriClient): Promise<string> {
  const storage = storages.get(client);
  if (!storage) throw new Error("not a test client");
  const out: string[] = [];
  for (const key of await storage.list("")) {
    out.push(key, new TextDecoder().decode((await storage.get(key)) ?? new Uint8Array()));
  }
  return out.join("\n");
}

/** Waits (bounded) until `client` has received `count` messages from others; returns them in order. */
export async function receive(client: SoriClient, count: number, timeoutMs = 10_000): Promise<ChatMessage[]> {
  const got: ChatMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await client.takeReceived()));
    if (got.length < count) await new Promise((r) => setTimeout(r, 25));
  }
  if (got.length < count)
    throw new Error(
      `expected ${count} messages, got ${got.length}: ${JSON.stringify(got.map((m) => m.text))}`,
    );
  return got;
}

/**
 * Every row of every table, for "stored data unchanged" assertions. `last_seen_at` is left out: connecting
 * legitimately records when a device was last seen.
 */
export function dumpDatabase(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, "sori.db"), { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    const out: Record<string, unknown[]> = {};
    for (const { name } of tables) {
      out[name] = db
        .prepare(`SELECT * FROM "${name}"`)
        .all()
        .map((row) =>
          Object.fromEntries(
            Object.entries(row as object)
              .filter(([k]) => k !== "last_seen_at")
              .map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v]),
          ),
        );
    }
    return JSON.stringify(out);
  } finally {
    db.close();
  }
}

/** Stored message ciphertexts still queued (for tests that try to decrypt them with the wrong keys). */
export function queuedCiphertexts(dataDir: string, groupId: string): Uint8Array[] {
  const db = new DatabaseSync(join(dataDir, "sori.db"), { readOnly: true });
  try {
    const rows = db
      .prepare("SELECT data FROM messages WHERE kind = 'message' AND group_id = ? ORDER BY id")
      .all(groupId) as { data: Uint8Array }[];
    return rows.map((r) => new Uint8Array(r.data));
  } finally {
    db.close();
  }
}

/** The signature key raw register/login requests present (any valid Ed25519 key; tests reuse one). */
const RAW_DEVICE_KEYS = await generateDeviceKeys();

/** A bare register/login over HTTP (for protocol-level tests); a login also sends a transfer key. */
export function rawAuth(
  url: string,
  mode: "register" | "login",
  username: string,
  password: string = PASSWORD,
): Promise<Response> {
  const device = {
    name: "raw",
    signatureKey: toBase64(RAW_DEVICE_KEYS.signaturePublicKey),
    ...(mode === "login" ? { transferKey: toBase64(new Uint8Array(32).fill(9)) } : {}),
  };
  return fetch(`${url}/api/v1/${mode}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password, device }),
  });
}

/** What a raw register or login answers: the account, its new device and that device's token. */
export type RawAccount = { userId: string; deviceId: string; token: string; account?: AccountKeys };

/**
 * Registers `username` with rawAuth and makes its account key (account.init over a WebSocket), so the
 * device may use the whole protocol; fails the test unless both worked.
 */
export async function registerRaw(url: string, username: string): Promise<RawAccount> {
  const res = await rawAuth(url, "register", username);
  assert.equal(res.status, 201, `register ${username}`);
  const created = (await res.json()) as RawAccount;
  const account = generateAccountKeys();
  const { certificate } = certifyDevice(account, created, RAW_DEVICE_KEYS.signaturePublicKey);
  const s = await authedSocket(url, created.token);
  try {
    const r = await s.call({
      type: "account.init",
      accountKey: toBase64(account.publicKey),
      certificate: toBase64(certificate),
    });
    assert.equal(r.type, "result", `account.init: ${JSON.stringify(r)}`);
  } finally {
    s.close();
  }
  return { ...created, account };
}

/** Logs `owner`'s account in on a new raw device and has `owner` approve it (device.approve). */
export async function loginRawApproved(
  url: string,
  username: string,
  owner: RawAccount,
): Promise<RawAccount> {
  const res = await rawAuth(url, "login", username);
  assert.equal(res.status, 200, `login ${username}`);
  const device = (await res.json()) as RawAccount;
  const { certificate } = certifyDevice(owner.account!, device, RAW_DEVICE_KEYS.signaturePublicKey);
  const s = await authedSocket(url, owner.token);
  try {
    const r = await s.call({
      type: "device.approve",
      deviceId: device.deviceId,
      certificate: toBase64(certificate),
      sealedKey: toBase64(new Uint8Array(48)),
    });
    assert.equal(r.type, "result", `device.approve: ${JSON.stringify(r)}`);
  } finally {
    s.close();
  }
  return { ...device, account: owner.account };
}

/** A test device's session token (from its stored profile), for raw protocol tests acting as it. */
export async function deviceToken(client: SoriClient): Promise<string> {
  const bytes = await storages.get(client)?.get("profile");
  if (!bytes) throw new Error("not a test client");
  return (JSON.parse(new TextDecoder().decode(bytes)) as { token: string }).token;
}

/**
 * dumpDatabase once background writes (KeyPackage refills, last-seen) have stopped: two dumps 150 ms
 * apart that agree, tried for at most 3 s. For "nothing changed" baselines taken right after activity.
 */
export async function settledDump(dataDir: string): Promise<string> {
  let previous = dumpDatabase(dataDir);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 150));
    const next = dumpDatabase(dataDir);
    if (next === previous) return next;
    previous = next;
  }
  return previous;
}
