import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { type ChildServer, freePort, spawnServer } from "../child-server.ts";
import { registerRaw } from "../helpers.ts";
import { authedSocket, type Frame, type RawSocket } from "../raw-socket.ts";

const PRELOAD = pathToFileURL(resolve("tests/fixtures/failing-fsync.ts")).href;
const G = "GYGYGYGYGYGYGYGYGYGYGY";
const mid = (n: number): string => `MY${String(n).padStart(20, "0")}`;

/** Stops the server; a shutdown that hangs after the failure is a defect, not something to wait out. */
async function stopWithin(server: ChildServer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((r) => {
    timer = setTimeout(() => r("hung"), ms);
  });
  const outcome = await Promise.race([server.stop().then(() => "stopped" as const), hung]);
  clearTimeout(timer);
  if (outcome === "hung") await server.kill();
  assert.equal(outcome, "stopped", "the server shuts down cleanly after the failed fsync");
}

/** Reads what the device is pushed up to `synced`: the ids of its messages. */
async function drain(s: RawSocket): Promise<string[]> {
  const got: string[] = [];
  for (let f = await s.next(); f.type !== "synced"; f = await s.next())
    if (f.kind === "message") got.push(String(f.messageId));
  return got;
}

/**
 * "Nothing lost" when the disk fails under the store, through the real server process: a failed fsync
 * of the database (injected by a preload, the server's code untouched) makes it refuse every new
 * message with storage-unavailable and report itself read-only, until a restart after which nothing
 * accepted is missing, and a resend of what was refused goes through exactly once.
 */
describe("a failed fsync of the database", () => {
  const root = mkdtempSync(join(tmpdir(), "sori-fsync-"));
  const dataDir = join(root, "data");
  const trigger = join(root, "fail-fsync");
  const sockets: RawSocket[] = [];
  let server: ChildServer | undefined;
  after(async () => {
    for (const s of sockets) s.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("stops writes with a clear error and /healthz read-only; after a restart nothing accepted is lost", async () => {
    const port = await freePort();
    const args = ["--port", String(port), "--data", dataDir, "--log-level", "warn"];
    server = await spawnServer(args, {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${PRELOAD}`.trim(),
      SORI_TEST_FAIL_FSYNC: trigger,
    });
    const url = server.url;
    const alice = await registerRaw(url, "alice");
    const bob = await registerRaw(url, "bob");
    const a = await authedSocket(url, alice.token);
    sockets.push(a);
    const created = await a.call({
      type: "group.create",
      groupId: G,
      epoch: 1,
      members: [bob.deviceId],
      welcome: "AAAA",
    });
    assert.equal(created.type, "result");
    const send = (s: RawSocket, n: number): Promise<Frame> =>
      s.call({
        type: "send",
        groupId: G,
        epoch: 1,
        messageId: mid(n),
        data: Buffer.from(`m${n}`).toString("base64"),
      });
    assert.equal((await send(a, 1)).type, "result", "accepted while the disk works");
    assert.equal((await fetch(`${url}/healthz`)).status, 200);

    writeFileSync(trigger, "");
    const refused = await send(a, 2);
    assert.equal(refused.type, "error");
    assert.equal(refused.code, "storage-unavailable");
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as { store: string }).store, "read-only");
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^sori_store_writable 0$/m);
    // Refused for good, even though fsync would work again: data may have been dropped behind it.
    rmSync(trigger);
    const later = await send(a, 3);
    assert.equal(later.code, "storage-unavailable", "no write is accepted before a restart");
    assert.equal((await a.call({ type: "ping" })).type, "result", "the server stays up and answers");
    // Queues are not read either: an entry read now might be one the disk lost.
    const early = await authedSocket(url, bob.token);
    sockets.push(early);
    const shut = await Promise.race([
      early.closed,
      new Promise<undefined>((r) => setTimeout(r, 5000, undefined).unref()),
    ]);
    assert.equal(shut?.code, 1011, "a device is told to come back later");
    a.close();
    await stopWithin(server, 10_000);

    server = await spawnServer(args);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, "writable again after the restart");
    const b = await authedSocket(server.url, bob.token);
    sockets.push(b);
    const got = await drain(b);
    assert.deepEqual(got.slice(0, 1), [mid(1)], "the message accepted before the failure is there");
    // m2 was committed before its fsync failed (and the injected failure lost nothing), so it may be
    // there; m3 came after the failure and must never have been written.
    assert.ok(!got.includes(mid(3)), "nothing was written after the failure");
    // What was refused may or may not have reached the disk; the sender resends it with the same id.
    const a2 = await authedSocket(server.url, alice.token);
    sockets.push(a2);
    for (const n of [2, 3]) {
      const again = await send(a2, n);
      assert.equal(again.type, "result", `resend ${n}: ${JSON.stringify(again).slice(0, 200)}`);
      const duplicate = (again.result as { duplicate: boolean }).duplicate;
      assert.equal(duplicate, got.includes(mid(n)), "a resend is new exactly when it was not stored");
      if (!duplicate) {
        const f = await b.next();
        assert.equal(f.messageId, mid(n));
        got.push(mid(n));
      }
    }
    assert.deepEqual(got, [mid(1), mid(2), mid(3)], "each message once, in order");
    await assert.rejects(b.next(300), /no frame/, "and nothing more");
  });
});
