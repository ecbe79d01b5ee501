import { PROTOCOL_VERSION } from "@sori/protocol";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  dumpDatabase,
  newUser,
  PASSWORD,
  rawAuth,
  registerRaw,
  startTestServer,
  type TestServer,
} from "../helpers.ts";
import { pick, rawSocket } from "../raw-socket.ts";

describe("hostile and malformed input", () => {
  let t: TestServer;
  let token: string;
  before(async () => {
    t = await startTestServer(["--max-frame-bytes", "65536", "--max-message-bytes", "4096"]);
    const alice = await newUser(t.url, "alice");
    const bob = await newUser(t.url, "bob");
    await alice.sendText("bob", "seed message so the tables hold data");
    await bob.close();
    await alice.close();
    const res = await rawAuth(t.url, "login", "carol-none", PASSWORD);
    assert.equal(res.status, 401);
    token = (await registerRaw(t.url, "mallory")).token;
  });
  after(async () => {
    await t.stop();
  });

  it("unauthenticated, malformed and oversized frames get typed errors and change nothing", async () => {
    const before = dumpDatabase(t.dataDir);
    const s = await rawSocket(t.url);
    try {
      s.send(
        JSON.stringify({
          type: "send",
          id: 1,
          groupId: "AAAAAAAAAAAAAAAAAAAAAA",
          epoch: 1,
          messageId: "AAAAAAAAAAAAAAAAAAAAAA",
          data: "AAAA",
        }),
      );
      assert.deepEqual(pick(await s.next()), { type: "error", re: 1, code: "unauthenticated" });
      s.send("this is not json");
      assert.deepEqual(pick(await s.next()), { type: "error", code: "bad-frame" });
      s.send(JSON.stringify({ type: "no-such-frame", id: 2 }));
      assert.deepEqual(pick(await s.next()), { type: "error", re: 2, code: "bad-frame" });
      s.send(JSON.stringify({ type: "auth", id: 3, v: PROTOCOL_VERSION, token: "x".repeat(40) }));
      const denied = await s.next();
      assert.deepEqual(pick(denied), { type: "error", re: 3, code: "auth-failed" });
      assert.match(String(denied.message), /log in again/);
      s.send(JSON.stringify({ type: "auth", id: 4, v: 99, token }));
      assert.deepEqual(pick(await s.next()), { type: "error", re: 4, code: "server-too-old" });
      s.send(JSON.stringify({ type: "auth", id: 5, v: PROTOCOL_VERSION, token }));
      assert.equal((await s.next()).type, "result");
      await s.next(); // "synced"
      s.send(
        JSON.stringify({
          type: "send",
          id: 6,
          groupId: "AAAAAAAAAAAAAAAAAAAAAA",
          epoch: 1,
          messageId: "AAAAAAAAAAAAAAAAAAAAAA",
          data: "not base64!",
        }),
      );
      const badData = await s.next();
      assert.deepEqual(pick(badData), { type: "error", re: 6, code: "bad-frame" });
      assert.match(String(badData.message), /data: must be standard base64/);
      s.send(
        JSON.stringify({
          type: "send",
          id: 7,
          groupId: "AAAAAAAAAAAAAAAAAAAAAA",
          epoch: 1,
          messageId: "AAAAAAAAAAAAAAAAAAAAAA",
          data: Buffer.alloc(5000).toString("base64"),
        }),
      );
      assert.deepEqual(pick(await s.next()), { type: "error", re: 7, code: "too-large" });
      s.send(JSON.stringify({ type: "ping", id: 8, pad: "x".repeat(70_000) }));
      assert.deepEqual(pick(await s.next()), { type: "error", re: 8, code: "too-large" });
      s.send(
        JSON.stringify({
          type: "send",
          id: 9,
          groupId: "AAAAAAAAAAAAAAAAAAAAAA",
          epoch: 1,
          messageId: "AAAAAAAAAAAAAAAAAAAAAA",
          data: "AAAA",
        }),
      );
      assert.deepEqual(pick(await s.next()), { type: "error", re: 9, code: "not-member" });
      s.send(Buffer.from([1, 2, 3]));
      assert.deepEqual(pick(await s.next()), { type: "error", code: "bad-frame" });
      // The connection survives all of it.
      s.send(JSON.stringify({ type: "ping", id: 10 }));
      assert.equal((await s.next()).type, "result");
    } finally {
      s.close();
    }
    // A frame far beyond any limit closes the connection (1009) rather than being buffered.
    const big = await rawSocket(t.url);
    big.send("x".repeat(65536 * 4 + 10));
    assert.equal((await big.closed).code, 1009);
    assert.ok(dumpDatabase(t.dataDir) === before, "stored data changed");
  });

  it("a commit for a stale epoch is refused with the current epoch", async () => {
    const s = await rawSocket(t.url);
    try {
      s.send(JSON.stringify({ type: "auth", id: 1, v: PROTOCOL_VERSION, token }));
      const auth = (await s.next()).result as { deviceId: string };
      await s.next();
      const groupId = "BBBBBBBBBBBBBBBBBBBBBB";
      s.send(JSON.stringify({ type: "group.create", id: 2, groupId, epoch: 0, members: [] }));
      assert.deepEqual((await s.next()).result, { groupId, epoch: 0 });
      s.send(
        JSON.stringify({
          type: "group.commit",
          id: 3,
          groupId,
          epoch: 0,
          commit: "AAAA",
          add: [],
          remove: [],
        }),
      );
      assert.deepEqual((await s.next()).result, { groupId, epoch: 1 });
      const before = dumpDatabase(t.dataDir);
      s.send(
        JSON.stringify({
          type: "group.commit",
          id: 4,
          groupId,
          epoch: 0,
          commit: "AAAB",
          add: [],
          remove: [],
        }),
      );
      const stale = await s.next();
      // A resend of the accepted commit (same group, epoch, device) is answered as before...
      assert.deepEqual(pick(stale), { type: "result", re: 4 });
      s.send(
        JSON.stringify({
          type: "group.commit",
          id: 5,
          groupId,
          epoch: 5,
          commit: "AAAB",
          add: [],
          remove: [],
        }),
      );
      const future = await s.next();
      assert.deepEqual(pick(future), { type: "error", re: 5, code: "stale-epoch" });
      assert.deepEqual(future.details, { epoch: 1 });
      assert.ok(dumpDatabase(t.dataDir) === before, "stored data changed");
      s.send(JSON.stringify({ type: "group.info", id: 6, groupId }));
      const info = (await s.next()).result as { epoch: number; members: { deviceId: string }[] };
      assert.equal(info.epoch, 1);
      assert.deepEqual(
        info.members.map((m) => m.deviceId),
        [auth.deviceId],
      );

      // Another member committing from the old epoch is refused and told the current one.
      const trent = await registerRaw(t.url, "trent");
      s.send(
        JSON.stringify({
          type: "group.commit",
          id: 7,
          groupId,
          epoch: 1,
          commit: "AAAC",
          welcome: "AAAA",
          add: [trent.deviceId],
          remove: [],
        }),
      );
      assert.deepEqual((await s.next()).result, { groupId, epoch: 2 });
      const other = await rawSocket(t.url);
      try {
        other.send(JSON.stringify({ type: "auth", id: 1, v: PROTOCOL_VERSION, token: trent.token }));
        assert.equal((await other.next()).type, "result");
        const before2 = dumpDatabase(t.dataDir);
        other.send(
          JSON.stringify({
            type: "group.commit",
            id: 2,
            groupId,
            epoch: 1,
            commit: "AAAD",
            add: [],
            remove: [],
          }),
        );
        let reply = await other.next();
        while (reply.type !== "error" && reply.type !== "result") reply = await other.next();
        assert.deepEqual(pick(reply), { type: "error", re: 2, code: "stale-epoch" });
        assert.deepEqual(reply.details, { epoch: 2 });
        assert.ok(dumpDatabase(t.dataDir) === before2, "stored data changed");
      } finally {
        other.close();
      }
    } finally {
      s.close();
    }
  });

  it("HTTP endpoints refuse bad bodies, bad tokens and oversized requests", async () => {
    const before = dumpDatabase(t.dataDir);
    const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${t.url}/api/v1/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    let res = await post("register", "{not json");
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "bad-request");
    res = await post(
      "register",
      JSON.stringify({ username: "ab", password: PASSWORD, device: { name: "x", signatureKey: "AAAA" } }),
    );
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /username/);
    res = await post(
      "register",
      JSON.stringify({ username: "x".repeat(10), password: "p".repeat(2_000_000) }),
    );
    assert.equal(res.status, 413);
    res = await post("logout", "", { authorization: "Bearer nonsense-token-value" });
    assert.equal(res.status, 401);
    res = await fetch(`${t.url}/api/v1/devices`);
    assert.equal(res.status, 401);
    res = await fetch(`${t.url}/api/v1/nothing-here`);
    assert.equal(res.status, 404);
    assert.ok(dumpDatabase(t.dataDir) === before, "stored data changed");
  });

  it("login attempts are rate limited per username", async () => {
    const attempt = (): Promise<Response> => rawAuth(t.url, "login", "alice", "wrong password");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt()).status);
    assert.ok(
      statuses.slice(0, 10).every((s) => s === 401),
      `first ten: ${statuses}`,
    );
    assert.equal(statuses[11], 429);
  });
});
