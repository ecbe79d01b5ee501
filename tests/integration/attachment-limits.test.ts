import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import {
  dumpDatabase,
  type RawAccount,
  registerRaw,
  startTestServer,
  suiteServer,
  type TestServer,
  waitFor,
} from "../helpers.ts";
import { authedSocket, type Frame, type RawSocket } from "../raw-socket.ts";

const WEEK_MS = 7 * 86_400_000;

/** Creates a blob of `bytes` as `account` and uploads it whole; its id. */
async function upload(url: string, account: RawAccount, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const auth = { authorization: `Bearer ${account.token}` };
  const created = await fetch(`${url}/api/v1/blobs`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ size: bytes.length }),
  });
  assert.equal(created.status, 201);
  const { blobId } = (await created.json()) as { blobId: string };
  const put = await fetch(`${url}/api/v1/blobs/${blobId}?offset=0`, {
    method: "PUT",
    headers: auth,
    body: bytes,
  });
  assert.equal(put.status, 200);
  return blobId;
}

/** A group made by the socket's device with `members`, at epoch 1. */
async function group(s: RawSocket, groupId: string, members: string[]): Promise<void> {
  const r = await s.call({
    type: "group.create",
    groupId,
    epoch: 1,
    members,
    ...(members.length > 0 ? { welcome: "AAAA" } : {}),
  });
  assert.equal(r.type, "result", JSON.stringify(r));
}

let counter = 0;
/** A send at epoch 1 with a fresh message id. */
function send(s: RawSocket, groupId: string, extra: Frame = {}): Promise<Frame> {
  counter += 1;
  const messageId = `M${String(counter).padStart(21, "0")}`;
  return s.call({ type: "send", groupId, epoch: 1, messageId, data: "AQID", ...extra });
}

function withDb<T>(dataDir: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dataDir, "sori.db"));
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
}

describe("attachments cannot be pinned past retention", () => {
  const t = suiteServer();

  it("only a blob's uploader and the devices it was sent to may name it; a recipient may forward it", async () => {
    const [alice, bob, mallory] = [
      await registerRaw(t.url, "alice"),
      await registerRaw(t.url, "bob"),
      await registerRaw(t.url, "mallory"),
    ];
    const [sa, sb, sm] = [
      await authedSocket(t.url, alice.token),
      await authedSocket(t.url, bob.token),
      await authedSocket(t.url, mallory.token),
    ];
    try {
      const [GA, GB, GM] = ["GA", "GB", "GM"].map((g) => g.repeat(11));
      await group(sa, GA!, [bob.deviceId]);
      await group(sb, GB!, [mallory.deviceId]);
      await group(sm, GM!, []);
      const file = await upload(t.url, alice, new Uint8Array([1, 2, 3, 4]));
      assert.equal((await send(sa, GA!, { blobs: [file] })).type, "result");

      // Mallory learned the id: naming it in a group of her own would keep it alive. Nothing changes.
      const before = dumpDatabase(t.dataDir);
      const refused = await send(sm, GM!, { blobs: [file], expiresAt: Date.now() + WEEK_MS });
      assert.equal(refused.type, "error");
      assert.equal(refused.code, "forbidden");
      assert.match(String(refused.message), /neither uploaded by this device nor sent to it/);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(dumpDatabase(t.dataDir) === before, "stored data changed");
      const get = (who: RawAccount): Promise<Response> =>
        fetch(`${t.url}/api/v1/blobs/${file}`, { headers: { authorization: `Bearer ${who.token}` } });

      // Bob received it and forwards it (the SDK resends the same blob id): Mallory can fetch it then.
      assert.equal((await send(sb, GB!, { blobs: [file] })).type, "result");
      const fetched = await get(mallory);
      assert.equal(fetched.status, 200);
      assert.deepEqual([...new Uint8Array(await fetched.arrayBuffer())], [1, 2, 3, 4]);
    } finally {
      for (const s of [sa, sb, sm]) s.close();
    }
  });

  it("a disappearing message's expiry past the longest timer is clamped to it", async () => {
    const carol = await registerRaw(t.url, "carol");
    const dave = await registerRaw(t.url, "dave");
    const s = await authedSocket(t.url, carol.token);
    try {
      // A member to queue it for: a message nobody is to receive is not stored at all.
      const G = "GC".repeat(11);
      await group(s, G, [dave.deviceId]);
      const sent = await send(s, G, { expiresAt: 8_000_000_000_000_000 }); // year 255,479
      assert.equal(sent.type, "result", "accepted, not refused: a fast clock must not stop a sender");
      const expiresAt = withDb(t.dataDir, (db) =>
        Number((db.prepare("SELECT max(expires_at) AS e FROM messages").get() as { e: number }).e),
      );
      assert.ok(
        expiresAt <= Date.now() + WEEK_MS + 5 * 60_000,
        `kept until ${new Date(expiresAt).toISOString()}`,
      );
      assert.ok(expiresAt > Date.now() + WEEK_MS - 60_000);
    } finally {
      s.close();
    }
  });
});

describe("retention holds for attachments whatever refers to them", () => {
  it("a blob older than --retention-days is deleted even if its record says it expires in year 255,479", async () => {
    const t = await startTestServer(["--retention-days", "1"]);
    try {
      const dan = await registerRaw(t.url, "dan");
      const s = await authedSocket(t.url, dan.token);
      const file = await upload(t.url, dan, new Uint8Array([5, 6]));
      try {
        await group(s, "GD".repeat(11), []);
        assert.equal((await send(s, "GD".repeat(11), { blobs: [file] })).type, "result");
      } finally {
        s.close();
      }
      const blobFile = join(t.dataDir, "blobs", file);
      assert.ok(existsSync(blobFile));
      // As an older server left it: uploaded two days ago, pinned far into the future.
      await t.restart(undefined, () =>
        withDb(t.dataDir, (db) =>
          db
            .prepare("UPDATE blobs SET created_at = ?, expires_at = ? WHERE id = ?")
            .run(Date.now() - 2 * 86_400_000, 8_000_000_000_000_000, file),
        ),
      );
      // The sweep removes the file and its record, not in one step: both, however slow the machine.
      const rows = (): number =>
        withDb(t.dataDir, (db) => (db.prepare("SELECT count(*) AS n FROM blobs").get() as { n: number }).n);
      await waitFor(
        async () => ({ file: existsSync(blobFile), rows: rows() }),
        (now) => !now.file && now.rows === 0,
      );
      const gone = await fetch(`${t.url}/api/v1/blobs/${file}`, {
        headers: { authorization: `Bearer ${dan.token}` },
      });
      assert.equal(gone.status, 404);
    } finally {
      await t.stop();
    }
  });
});

/** Asks to upload a file of `size` bytes (nothing is sent yet: the quota counts the size asked for). */
function createBlob(url: string, account: RawAccount, size: number): Promise<Response> {
  return fetch(`${url}/api/v1/blobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${account.token}`, "content-type": "application/json" },
    body: JSON.stringify({ size }),
  });
}

/** What the server stores of attachments: every row, and the files. */
const storedFiles = (dataDir: string): string =>
  dumpDatabase(dataDir) + readdirSync(join(dataDir, "blobs")).sort().join(",");

type Refusal = { status: number; code: string; message: string; details: Record<string, number> };

/** Asks for an upload that must be refused; asserts nothing stored changed and returns the refusal. */
async function refusedUpload(t: TestServer, account: RawAccount, size: number): Promise<Refusal> {
  const before = storedFiles(t.dataDir);
  const res = await createBlob(t.url, account, size);
  const { error } = (await res.json()) as { error: Omit<Refusal, "status"> };
  assert.ok(storedFiles(t.dataDir) === before, "stored data changed");
  return { status: res.status, ...error };
}

describe("attachment quotas", () => {
  it("an account's uploads may take --max-account-files-mb together; beyond it too-large, nothing stored", async () => {
    const t = await startTestServer(["--max-file-mb", "1", "--max-account-files-mb", "1"]);
    try {
      const eve = await registerRaw(t.url, "eve");
      const fay = await registerRaw(t.url, "fay");
      assert.equal((await createBlob(t.url, eve, 600_000)).status, 201);
      const refused = await refusedUpload(t, eve, 600_000);
      assert.deepEqual([refused.status, refused.code], [413, "too-large"]);
      assert.deepEqual(refused.details, { limit: 1_000_000, stored: 600_000 });
      assert.match(refused.message, /this account's files waiting on the server may take 1000000 bytes/);
      assert.equal((await createBlob(t.url, eve, 400_000)).status, 201, "what is left still fits");
      assert.equal((await createBlob(t.url, fay, 600_000)).status, 201, "another account has its own");
    } finally {
      await t.stop();
    }
  });

  it("all uploads may take --max-files-gb together; beyond it storage-unavailable, nothing stored", async () => {
    const t = await startTestServer(["--max-file-mb", "1000", "--max-files-gb", "1"]);
    try {
      const gil = await registerRaw(t.url, "gil");
      const hap = await registerRaw(t.url, "hap");
      assert.equal((await createBlob(t.url, gil, 600_000_000)).status, 201);
      const refused = await refusedUpload(t, hap, 600_000_000);
      assert.deepEqual([refused.status, refused.code], [503, "storage-unavailable"]);
      assert.deepEqual(refused.details, { limit: 1_000_000_000 });
      assert.match(refused.message, /as many files as its operator allows/);
      assert.equal((await createBlob(t.url, hap, 400_000_000)).status, 201);
    } finally {
      await t.stop();
    }
  });
});
