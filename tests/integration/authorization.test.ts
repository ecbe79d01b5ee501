import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import {
  dumpDatabase,
  rawAuth,
  type RawAccount,
  registerRaw,
  startTestServer,
  type TestServer,
  waitFor,
} from "../helpers.ts";
import { authedSocket, type Frame, type RawSocket, rawSocket } from "../raw-socket.ts";

const G1 = "G1G1G1G1G1G1G1G1G1G1GA";
const M1 = "M1M1M1M1M1M1M1M1M1M1MA";

async function login(url: string, username: string): Promise<RawAccount> {
  const res = await rawAuth(url, "login", username);
  assert.equal(res.status, 200, `login ${username}`);
  return (await res.json()) as RawAccount;
}

/** A bare WebSocket upgrade request: its status, Retry-After and body (the socket is then closed). */
function upgrade(url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/api/v1/ws`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, retryAfter: undefined, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function connected(url: string, a: RawAccount): Promise<RawSocket> {
  return authedSocket(url, a.token);
}

/** Runs `change` and asserts it left every stored row as it was. */
async function unchanged(t: TestServer, change: () => Promise<void>): Promise<void> {
  const before = dumpDatabase(t.dataDir);
  await change();
  // Writes are batched per event-loop turn: let any that a bug might have queued land first.
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(dumpDatabase(t.dataDir) === before, "stored data changed");
}

function withDb<T>(t: TestServer, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(t.dataDir, "sori.db"));
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
}

const tokenHash = (token: string): string => createHash("sha256").update(token).digest("base64url");

function expectError(frame: Frame, code: string): void {
  assert.equal(frame.type, "error", `expected ${code}, got ${JSON.stringify(frame)}`);
  assert.equal(frame.code, code);
  assert.ok(typeof frame.message === "string" && frame.message.length > 10, "a clear message");
}

describe("authorization: nobody in who does not belong", () => {
  let t: TestServer;
  let alice: RawAccount;
  let bob: RawAccount;
  let mallory: RawAccount;
  let as: RawSocket;
  let ms: RawSocket;
  before(async () => {
    t = await startTestServer();
    alice = await registerRaw(t.url, "alice");
    bob = await registerRaw(t.url, "bob");
    mallory = await registerRaw(t.url, "mallory");
    as = await connected(t.url, alice);
    ms = await connected(t.url, mallory);
    // alice's group with bob, one message queued for bob.
    let r = await as.call({
      type: "group.create",
      groupId: G1,
      epoch: 1,
      members: [bob.deviceId],
      welcome: "AAAA",
    });
    assert.equal(r.type, "result");
    r = await as.call({ type: "send", groupId: G1, epoch: 1, messageId: M1, data: "AQID" });
    assert.equal(r.type, "result");
  });
  after(async () => {
    as.close();
    ms.close();
    await t.stop();
  });

  it("every frame before auth, and every account endpoint without a valid token, is refused", async () => {
    const frames: Frame[] = [
      { type: "kp.upload", keyPackages: ["AAAA"], lastResort: "AAAA" },
      { type: "kp.status" },
      { type: "kp.claim", deviceIds: [bob.deviceId] },
      { type: "dir.users", usernames: ["bob"] },
      { type: "dir.devices", deviceIds: [bob.deviceId] },
      { type: "group.create", groupId: "GZGZGZGZGZGZGZGZGZGZGZ", epoch: 0, members: [] },
      { type: "group.commit", groupId: G1, epoch: 1, commit: "AAAA", add: [], remove: [] },
      { type: "group.info", groupId: G1 },
      { type: "group.list" },
      { type: "send", groupId: G1, epoch: 1, messageId: "NNNNNNNNNNNNNNNNNNNNNN", data: "AQID" },
      { type: "ack", upTo: 1_000_000 },
      { type: "ping" },
    ];
    await unchanged(t, async () => {
      const s = await rawSocket(t.url);
      try {
        for (const f of frames) expectError(await s.call(f), "unauthenticated");
        expectError(await s.auth("x".repeat(43)), "auth-failed");
        for (const f of frames) expectError(await s.call(f), "unauthenticated");
      } finally {
        s.close();
      }
      const endpoints: [string, string][] = [
        ["GET", "/api/v1/devices"],
        ["POST", "/api/v1/logout"],
        ["DELETE", `/api/v1/devices/${bob.deviceId}`],
      ];
      for (const [method, path] of endpoints) {
        for (const authorization of [
          undefined,
          "Bearer nonsense-token-value",
          `Basic ${alice.token}`,
          alice.token,
        ]) {
          const res = await fetch(`${t.url}${path}`, {
            method,
            headers: authorization === undefined ? {} : { authorization },
          });
          assert.equal(res.status, 401, `${method} ${path} with ${String(authorization).slice(0, 12)}`);
          const body = (await res.json()) as { error: { code: string; message: string } };
          assert.equal(body.error.code, "unauthenticated");
        }
      }
    });
  });

  it("another account's device queue cannot be read, acknowledged or revoked", async () => {
    await unchanged(t, async () => {
      // An ack only ever reaches this device's own queue, and only what was pushed to it.
      const ack = await ms.call({ type: "ack", upTo: 1_000_000 });
      assert.deepEqual(ack.result, { removed: 0 });
      const res = await fetch(`${t.url}/api/v1/devices/${bob.deviceId}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${mallory.token}` },
      });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "not-found");
    });
    // bob still gets what was queued for him.
    const bs = await connected(t.url, bob);
    try {
      const pushed: Frame[] = [];
      for (let f = await bs.next(); f.type !== "synced"; f = await bs.next()) pushed.push(f);
      assert.deepEqual(
        pushed.map((f) => f.kind),
        ["welcome", "message"],
      );
    } finally {
      bs.close();
    }
  });

  it("a device that is not a member cannot send to, inspect, commit to or re-create a group", async () => {
    await unchanged(t, async () => {
      expectError(
        await ms.call({
          type: "send",
          groupId: G1,
          epoch: 1,
          messageId: "MMMMMMMMMMMMMMMMMMMMMM",
          data: "AQID",
        }),
        "not-member",
      );
      expectError(await ms.call({ type: "group.info", groupId: G1 }), "not-member");
      expectError(
        await ms.call({
          type: "group.commit",
          groupId: G1,
          epoch: 1,
          commit: "AAAA",
          welcome: "AAAA",
          add: [mallory.deviceId],
          remove: [],
        }),
        "not-member",
      );
      expectError(
        await ms.call({ type: "group.create", groupId: G1, epoch: 0, members: [] }),
        "group-exists",
      );
      const list = await ms.call({ type: "group.list" });
      assert.deepEqual(list.result, { groups: [] });
    });
  });

  it("a removed member can neither commit nor send", async () => {
    const G2 = "G2G2G2G2G2G2G2G2G2G2GA";
    const bs = await connected(t.url, bob);
    try {
      assert.equal(
        (
          await as.call({
            type: "group.create",
            groupId: G2,
            epoch: 1,
            members: [bob.deviceId],
            welcome: "AAAA",
          })
        ).type,
        "result",
      );
      const removed = await as.call({
        type: "group.commit",
        groupId: G2,
        epoch: 1,
        commit: "AAAB",
        add: [],
        remove: [bob.deviceId],
      });
      assert.deepEqual(removed.result, { groupId: G2, epoch: 2 });
      await unchanged(t, async () => {
        expectError(
          await bs.call({ type: "group.commit", groupId: G2, epoch: 2, commit: "AAAC", add: [], remove: [] }),
          "not-member",
        );
        expectError(
          await bs.call({
            type: "send",
            groupId: G2,
            epoch: 2,
            messageId: "BBBBBBBBBBBBBBBBBBBBBB",
            data: "AQ==",
          }),
          "not-member",
        );
      });
    } finally {
      bs.close();
    }
  });

  it("a revoked device's token is refused everywhere, and its open connection is closed", async () => {
    const second = await login(t.url, "alice");
    const open = await connected(t.url, second);
    const res = await fetch(`${t.url}/api/v1/devices/${second.deviceId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${alice.token}` },
    });
    assert.equal(res.status, 204);
    assert.equal((await open.closed).code, 4003);
    await unchanged(t, async () => {
      const s = await rawSocket(t.url);
      try {
        const denied = await s.auth(second.token);
        expectError(denied, "auth-failed");
        assert.match(String(denied.message), /revoked/);
      } finally {
        s.close();
      }
      const http = await fetch(`${t.url}/api/v1/devices`, {
        headers: { authorization: `Bearer ${second.token}` },
      });
      assert.equal(http.status, 401);
      assert.equal(((await http.json()) as { error: { code: string } }).error.code, "unauthenticated");
      const logout = await fetch(`${t.url}/api/v1/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${second.token}` },
      });
      assert.equal(logout.status, 401);
    });
  });

  it("an expired token is refused; a used one slides its expiry forward", async () => {
    const old = await login(t.url, "bob");
    withDb(t, (db) =>
      db
        .prepare("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
        .run(Date.now() - 1, tokenHash(old.token)),
    );
    await unchanged(t, async () => {
      const s = await rawSocket(t.url);
      try {
        const denied = await s.auth(old.token);
        expectError(denied, "auth-failed");
        assert.match(String(denied.message), /expired/);
      } finally {
        s.close();
      }
      const http = await fetch(`${t.url}/api/v1/devices`, {
        headers: { authorization: `Bearer ${old.token}` },
      });
      assert.equal(http.status, 401);
    });

    // A session two days from expiry that is used again lasts the full lifetime (90 days) from now.
    const soon = await login(t.url, "bob");
    const expiry = (): number =>
      withDb(t, (db) => {
        const row = db
          .prepare("SELECT expires_at FROM sessions WHERE token_hash = ?")
          .get(tokenHash(soon.token)) as {
          expires_at: number;
        };
        return Number(row.expires_at);
      });
    withDb(t, (db) =>
      db
        .prepare("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
        .run(Date.now() + 2 * 86_400_000, tokenHash(soon.token)),
    );
    const s = await connected(t.url, soon);
    s.close();
    const deadline = Date.now() + 5000;
    while (expiry() < Date.now() + 89 * 86_400_000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(expiry() > Date.now() + 89 * 86_400_000, "the expiry moved to 90 days from now");
  });

  it("a replayed frame changes nothing: sends and commits are idempotent, auth is refused", async () => {
    const G3 = "G3G3G3G3G3G3G3G3G3G3GA";
    assert.equal(
      (await as.call({ type: "group.create", groupId: G3, epoch: 0, members: [] })).type,
      "result",
    );
    const send = { type: "send", groupId: G3, epoch: 0, messageId: "RRRRRRRRRRRRRRRRRRRRRR", data: "AQID" };
    const first = await as.call(send);
    assert.equal((first.result as { duplicate: boolean }).duplicate, false);
    const commit = { type: "group.commit", groupId: G3, epoch: 0, commit: "AAAA", add: [], remove: [] };
    assert.deepEqual((await as.call(commit)).result, { groupId: G3, epoch: 1 });
    await unchanged(t, async () => {
      // The same bytes again (a replay, or a resend after a lost answer): answered as before, stored once.
      const again = await as.call(send);
      assert.deepEqual(again.result, { ...(first.result as object), duplicate: true });
      // Even with other bytes under the same id, the first one stands.
      const forged = await as.call({ ...send, data: "BAUG" });
      assert.equal((forged.result as { duplicate: boolean }).duplicate, true);
      assert.deepEqual((await as.call(commit)).result, { groupId: G3, epoch: 1 });
      const auth = await as.auth(alice.token);
      expectError(auth, "bad-request");
      assert.match(String(auth.message), /already authenticated/);
      // A frame replayed by someone else on their own connection is theirs: mallory is not a member.
      expectError(await ms.call(send), "not-member");
    });
  });
});

describe("abuse limits", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([
      "--registrations-per-minute",
      "1000",
      "--login-attempts-per-minute",
      "2",
      "--claims-per-minute",
      "2",
      "--messages-per-minute",
      "8",
      "--lookups-per-minute",
      "200",
    ]);
  });
  after(async () => {
    await t.stop();
  });

  it("registrations are limited per address", async () => {
    const tight = await startTestServer(["--registrations-per-minute", "3"]);
    try {
      for (const u of ["reg1", "reg2", "reg3"]) await registerRaw(tight.url, u);
      await unchanged(tight, async () => {
        const res = await rawAuth(tight.url, "register", "reg4");
        assert.equal(res.status, 429);
        const body = (await res.json()) as { error: { code: string; details: { retryAfterS: number } } };
        assert.equal(body.error.code, "rate-limited");
        assert.ok(body.error.details.retryAfterS >= 1);
      });
    } finally {
      await tight.stop();
    }
  });

  it("behind a reverse proxy (--trust-proxy true) the limits apply per forwarded address", async () => {
    const proxied = await startTestServer(["--registrations-per-minute", "1", "--trust-proxy", "true"]);
    try {
      const reg = (name: string, forwardedFor: string): Promise<Response> =>
        fetch(`${proxied.url}/api/v1/register`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
          body: JSON.stringify({
            username: name,
            password: "a long password",
            device: { name: "d", signatureKey: "AAAA" },
          }),
        });
      assert.equal((await reg("viaproxy1", "203.0.113.1")).status, 201);
      assert.equal((await reg("viaproxy2", "203.0.113.1")).status, 429);
      // A client's own claim before the proxy's entry does not buy it a fresh budget.
      assert.equal((await reg("viaproxy3", "198.51.100.1, 203.0.113.1")).status, 429);
      assert.equal((await reg("viaproxy4", "203.0.113.2")).status, 201);
    } finally {
      await proxied.stop();
    }
  });

  it("behind a reverse proxy device-link claims are limited per forwarded address too", async () => {
    const proxied = await startTestServer(["--login-attempts-per-minute", "2", "--trust-proxy", "true"]);
    try {
      const claim = (forwardedFor: string): Promise<Response> =>
        fetch(`${proxied.url}/api/v1/links/claim`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
          body: JSON.stringify({ code: "ABCDE-FGHJK", device: { name: "d", signatureKey: "AAAA" } }),
        });
      await unchanged(proxied, async () => {
        // Without a transfer key and proof the claim is malformed; the attempt still counts.
        assert.equal((await claim("203.0.113.7")).status, 400);
        assert.equal((await claim("203.0.113.7")).status, 400);
        const limited = await claim("203.0.113.7");
        assert.equal(limited.status, 429);
        const body = (await limited.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, "rate-limited");
        assert.match(body.error.message, /link attempts/);
        // Every request arrives from the proxy's socket: another client behind it has its own budget.
        assert.equal((await claim("203.0.113.8")).status, 400);
      });
    } finally {
      await proxied.stop();
    }
  });

  it("login attempts are limited per address across usernames", async () => {
    const statuses: number[] = [];
    // 2 per (username, address), 20 per address: eleven names twice each reach the address limit.
    for (let i = 0; i < 11; i++)
      for (let k = 0; k < 2; k++)
        statuses.push((await rawAuth(t.url, "login", `nobody${i}`, "wrong password")).status);
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(401));
    assert.equal(statuses[21], 429);
  });

  it("KeyPackage claims are limited per account and per address", async () => {
    const target = await registerRaw(t.url, "target");
    const sockets: RawSocket[] = [];
    try {
      const codes: string[] = [];
      for (let i = 0; i < 11; i++) {
        const a = await registerRaw(t.url, `claimer${i}`);
        const s = await connected(t.url, a);
        sockets.push(s);
        // Two distinct devices per request: exactly an account's limit of 2 per minute.
        const r = await s.call({ type: "kp.claim", deviceIds: [target.deviceId, "XXXXXXXXXXXXXXXXXXXXXX"] });
        codes.push(r.type === "result" ? "ok" : String(r.code));
        if (i === 0) {
          const more = await s.call({ type: "kp.claim", deviceIds: [target.deviceId] });
          expectError(more, "rate-limited");
        }
      }
      assert.deepEqual(codes, [...Array(10).fill("ok"), "rate-limited"], "the 21st claim from one address");
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it("connections waiting to authenticate are limited per address (--unauthenticated-per-address)", async () => {
    const tight = await startTestServer(["--unauthenticated-per-address", "2"]);
    try {
      const account = await registerRaw(tight.url, "patient");
      const waiting = [await rawSocket(tight.url), await rawSocket(tight.url)];
      try {
        const refused = await upgrade(tight.url);
        assert.equal(refused.status, 429);
        assert.equal(refused.retryAfter, "10");
        const body = JSON.parse(refused.body) as {
          error: { code: string; message: string; details: unknown };
        };
        assert.equal(body.error.code, "rate-limited");
        assert.match(body.error.message, /waiting to authenticate/);
        assert.deepEqual(body.error.details, { retryAfterS: 10 });
        // One of them signs in: its slot is free again, and it stays connected.
        assert.equal((await waiting[0]!.auth(account.token)).type, "result");
        const third = await rawSocket(tight.url);
        assert.equal((await upgrade(tight.url)).status, 429, "the third one holds the freed slot");
        // One that gives up frees its slot too.
        third.close();
        await third.closed;
        const fourth = await waitFor(
          () => upgrade(tight.url),
          (u) => u.status === 101,
          5000,
        );
        assert.equal(fourth.status, 101);
        assert.equal((await waiting[0]!.call({ type: "ping" })).type, "result");
      } finally {
        for (const s of waiting) s.close();
      }
    } finally {
      await tight.stop();
    }
  });

  it("requests in progress at once are limited per connection (--requests-in-flight)", async () => {
    const tight = await startTestServer(["--requests-in-flight", "2"]);
    try {
      const a = await registerRaw(tight.url, "eager");
      const s = await connected(tight.url, a);
      try {
        // Sent in one go, each waits for the store thread: more than two are in progress at once.
        const ids = Array.from({ length: 12 }, (_, i) => `gl${i}`);
        for (const id of ids) s.send(JSON.stringify({ type: "group.list", id }));
        const answers: Frame[] = [];
        while (answers.length < ids.length) {
          const f = await s.next();
          if (ids.includes(f.re as string)) answers.push(f);
        }
        const limited = answers.filter((f) => f.type === "error");
        assert.ok(limited.length > 0 && limited.length <= 10, `${limited.length} refused`);
        for (const f of limited) {
          expectError(f, "rate-limited");
          assert.match(String(f.message), /at most 2 requests/);
          assert.deepEqual(f.details, { retryAfterS: 1 });
        }
        assert.ok(answers.filter((f) => f.type === "result").length >= 2);
        // Once answered, the connection takes requests again.
        assert.equal((await s.call({ type: "group.list" })).type, "result");
      } finally {
        s.close();
      }
    } finally {
      await tight.stop();
    }
  });

  it("directory look-ups are limited per account, counting every name, with a retry-after", async () => {
    const a = await registerRaw(t.url, "harvester");
    const b = await registerRaw(t.url, "neighbour");
    const sa = await connected(t.url, a);
    const sb = await connected(t.url, b);
    try {
      const names = (from: number): string[] => Array.from({ length: 100 }, (_, i) => `guess${from + i}`);
      // 200 names a minute: two requests of a hundred, then nothing more.
      for (const from of [0, 100]) {
        const r = await sa.call({ type: "dir.users", usernames: names(from) });
        assert.equal((r.result as { unknown: string[] }).unknown.length, 100);
      }
      await unchanged(t, async () => {
        const limited = await sa.call({ type: "dir.users", usernames: ["neighbour"] });
        expectError(limited, "rate-limited");
        assert.match(String(limited.message), /too many directory look-ups; retry in \d+ s/);
        const retry = (limited.details as { retryAfterS: number }).retryAfterS;
        assert.ok(retry >= 1 && retry <= 60, `retry after ${retry} s`);
      });
      const other = await sb.call({ type: "dir.users", usernames: ["harvester"] });
      assert.equal(
        (other.result as { users: unknown[] }).users.length,
        1,
        "another account has its own budget",
      );
    } finally {
      sa.close();
      sb.close();
    }
  });

  it("messages are limited per device with a retry-after, and other devices are unaffected", async () => {
    const a = await registerRaw(t.url, "chatty");
    const b = await registerRaw(t.url, "quiet");
    const sa = await connected(t.url, a);
    const sb = await connected(t.url, b);
    try {
      const GA = "GAGAGAGAGAGAGAGAGAGAGA";
      const GB = "GBGBGBGBGBGBGBGBGBGBGB";
      await sa.call({ type: "group.create", groupId: GA, epoch: 0, members: [] });
      await sb.call({ type: "group.create", groupId: GB, epoch: 0, members: [] });
      const send = (s: RawSocket, g: string, n: number): Promise<Frame> =>
        s.call({
          type: "send",
          groupId: g,
          epoch: 0,
          messageId: `${g.slice(0, 2)}${String(n).padStart(20, "0")}`,
          data: "AQ==",
        });
      // 8 per minute: a burst of 2, then one every 7.5 s.
      assert.equal((await send(sa, GA, 1)).type, "result");
      assert.equal((await send(sa, GA, 2)).type, "result");
      await unchanged(t, async () => {
        const limited = await send(sa, GA, 3);
        expectError(limited, "rate-limited");
        const retry = (limited.details as { retryAfterS: number }).retryAfterS;
        assert.ok(retry >= 1 && retry <= 8, `retry after ${retry} s`);
      });
      assert.equal((await send(sb, GB, 1)).type, "result", "another device has its own budget");
    } finally {
      sa.close();
      sb.close();
    }
  });
});

describe("slow and silent connections are closed", () => {
  let t: TestServer;
  let account: RawAccount;
  before(async () => {
    t = await startTestServer(["--auth-timeout", "1", "--idle-timeout", "2", "--request-timeout", "1"]);
    account = await registerRaw(t.url, "slowpoke");
  });
  after(async () => {
    await t.stop();
  });

  const within = async <T>(ms: number, p: Promise<T>, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what} not closed within ${ms} ms`)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  it("a WebSocket that never authenticates is closed after the auth timeout", async () => {
    const s = await rawSocket(t.url);
    const started = Date.now();
    const closed = await within(4000, s.closed, "unauthenticated socket");
    assert.equal(closed.code, 4001);
    assert.match(closed.reason, /authentication timeout/);
    assert.ok(Date.now() - started >= 900);
  });

  it("an authenticated WebSocket that stops answering pings (half-open) is closed", async () => {
    const s = await rawSocket(t.url, { autoPong: false });
    assert.equal((await s.auth(account.token)).type, "result");
    const closed = await within(5000, s.closed, "half-open socket");
    assert.equal(closed.code, 1006, "terminated, not closed politely");
    // One that answers pings stays up past the same time.
    const live = await rawSocket(t.url);
    try {
      assert.equal((await live.auth(account.token)).type, "result");
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await live.call({ type: "ping" })).type, "result");
    } finally {
      live.close();
    }
  });

  it("HTTP clients that send headers or a body too slowly (slowloris) or nothing at all are cut off", async () => {
    const port = Number(new URL(t.url).port);
    const rawHttp = (write: (sock: ReturnType<typeof connect>) => void): Promise<string> =>
      new Promise((resolve) => {
        const sock = connect(port, "127.0.0.1", () => write(sock));
        let got = "";
        sock.on("data", (d) => {
          got += String(d);
        });
        sock.on("close", () => resolve(got));
        sock.on("error", () => undefined);
      });
    const trickle = (sock: ReturnType<typeof connect>, text: string): void => {
      let i = 0;
      const timer = setInterval(() => {
        if (sock.destroyed || i >= text.length) return clearInterval(timer);
        sock.write(text[i++]!);
      }, 200);
      sock.on("close", () => clearInterval(timer));
    };
    const [headers, body, silent] = await within(
      6000,
      Promise.all([
        rawHttp((s) => trickle(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100))),
        rawHttp((s) => {
          s.write(
            "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{",
          );
          trickle(s, "x".repeat(100));
        }),
        rawHttp(() => undefined),
      ]),
      "slow HTTP clients",
    );
    assert.match(headers, /^HTTP\/1.1 408|^$/);
    assert.match(body, /^HTTP\/1.1 408|^$/);
    assert.equal(silent.includes("200 OK"), false);
    // The server still answers a normal request at once.
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });
});
