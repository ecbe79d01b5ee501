import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { inProcessRunner, jsonLines } from "../cli-runner.ts";
import { dumpDatabase, registerRaw, settledDump, startTestServer, suiteServer } from "../helpers.ts";
import { browserSubscription } from "../mock-push-service.ts";
import { authedSocket, type Frame, rawSocket } from "../raw-socket.ts";

type Sub = { endpoint: string; keys: { p256dh: string; auth: string } };
const subscribe = (sub: Sub): Frame => ({ type: "push.subscribe", endpoint: sub.endpoint, keys: sub.keys });

describe("push subscriptions: what is refused, with nothing stored changed", () => {
  // The default hosts (the big browsers' push services), as an operator runs it.
  const t = suiteServer(["--push-contact", "mailto:ops@sori.example"]);

  it("takes a browser's subscription on an allowed host and refuses others with a clear reason", async () => {
    const mia = await registerRaw(t.url, "wpr_mia");
    const s = await authedSocket(t.url, mia.token);
    try {
      const good = browserSubscription("https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b");
      assert.equal((await s.call(subscribe(good.json))).type, "result");
      const stored = await settledDump(t.dataDir);

      const refusals: [Frame, string, RegExp][] = [
        [
          subscribe({ ...good.json, endpoint: "https://evil.example/push" }),
          "forbidden",
          /"evil\.example" is not allowed.*fcm\.googleapis\.com/,
        ],
        [subscribe({ ...good.json, endpoint: "https://169.254.169.254/latest" }), "forbidden", /not allowed/],
        [
          subscribe({ ...good.json, endpoint: "http://fcm.googleapis.com/fcm/send/x" }),
          "bad-request",
          /https/,
        ],
        [
          subscribe({ ...good.json, endpoint: "not a url" }),
          "bad-frame",
          /endpoint: must be an absolute https URL/,
        ],
        [
          subscribe({ ...good.json, endpoint: "https://user:pw@fcm.googleapis.com/x" }),
          "bad-frame",
          /endpoint/,
        ],
        [
          subscribe({ ...good.json, endpoint: `https://fcm.googleapis.com/${"x".repeat(2100)}` }),
          "bad-frame",
          /endpoint/,
        ],
        [
          subscribe({ ...good.json, keys: { ...good.json.keys, p256dh: "AAAA" } }),
          "bad-frame",
          /keys\.p256dh: must be an uncompressed P-256 public key/,
        ],
        [
          subscribe({
            ...good.json,
            keys: {
              ...good.json.keys,
              p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString("base64url"),
            },
          }),
          "bad-request",
          /not a point on P-256/,
        ],
        [subscribe({ ...good.json, keys: { ...good.json.keys, auth: "AAAA" } }), "bad-frame", /keys\.auth/],
        [
          subscribe({ ...good.json, keys: { ...good.json.keys, p256dh: "+/+/" } }),
          "bad-frame",
          /keys\.p256dh/,
        ],
        [{ type: "push.subscribe", endpoint: good.json.endpoint }, "bad-frame", /keys/],
        [{ ...subscribe(good.json), extra: 1 }, "bad-frame", /extra|Unrecognized/i],
        [{ ...subscribe(good.json), keys: { ...good.json.keys, more: "x" } }, "bad-frame", /keys/],
        [{ type: "push.unsubscribe", all: true }, "bad-frame", /all|Unrecognized/i],
      ];
      for (const [frame, code, message] of refusals) {
        const r = await s.call(frame);
        assert.equal(r.type, "error", JSON.stringify(frame).slice(0, 120));
        assert.equal(r.code, code, `${JSON.stringify(frame).slice(0, 120)}: ${String(r.message)}`);
        assert.match(String(r.message), message);
      }
      assert.equal(dumpDatabase(t.dataDir), stored, "the refusals changed nothing stored");
      const status = (await s.call({ type: "push.status" })).result as { subscription: { host: string } };
      assert.equal(status.subscription.host, "fcm.googleapis.com", "the good subscription stands");

      // Durable sends cannot wake; only a ring can.
      const wake = await s.call({
        type: "send",
        groupId: "AAAAAAAAAAAAAAAAAAAAAA",
        epoch: 1,
        messageId: "AAAAAAAAAAAAAAAAAAAAAA",
        data: "AAAA",
        wake: "call",
      });
      assert.equal(wake.code, "bad-request");
      assert.match(String(wake.message), /transient/);
      assert.equal(
        (
          await s.call({
            type: "send",
            groupId: "AAAAAAAAAAAAAAAAAAAAAA",
            epoch: 1,
            messageId: "AAAAAAAAAAAAAAAAAAAAAB",
            data: "AAAA",
            transient: true,
            wake: "message",
          })
        ).code,
        "bad-frame",
      );
    } finally {
      s.close();
    }
  });

  it("before auth nothing is taken, and a revoked device's subscription goes with it", async () => {
    const ned = await registerRaw(t.url, "wpr_ned");
    const s = await rawSocket(t.url);
    const sub = browserSubscription("https://updates.push.services.mozilla.com/wpush/v2/abc");
    try {
      assert.equal((await s.call(subscribe(sub.json))).code, "unauthenticated");
    } finally {
      s.close();
    }
    const a = await authedSocket(t.url, ned.token);
    try {
      assert.equal((await a.call(subscribe(sub.json))).type, "result");
    } finally {
      a.close();
    }
    assert.equal((await t.server.store.pushSubscriptions([ned.deviceId])).length, 1);
    const out = await fetch(`${t.url}/api/v1/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${ned.token}` },
    });
    assert.equal(out.status, 204);
    assert.deepEqual(await t.server.store.pushSubscriptions([ned.deviceId]), []);
  });

  it("sori push status shows the server's key and this device's subscription; sori push unsubscribe removes it", async () => {
    const sori = inProcessRunner("push cli password");
    const dir = mkdtempSync(join(tmpdir(), "sori-push-cli-"));
    const profile = ["--profile", join(dir, "quin")];
    try {
      assert.equal((await sori(["register", "wpr_quin", "--server", t.url, ...profile])).code, 0);
      const off = await sori(["push", ...profile]);
      assert.equal(off.code, 0, off.stderr);
      assert.match(
        off.stdout,
        /^push notifications: on \(VAPID key [A-Za-z0-9_-]{87}\)\nthis device: not subscribed\n$/,
      );
      const [json] = jsonLines((await sori(["push", "status", "--json", ...profile])).stdout);
      assert.equal(json!.subscription, null);
      assert.equal(Buffer.from(json!.vapidPublicKey as string, "base64url").length, 65);
      assert.equal(
        (await sori(["push", "unsubscribe", ...profile])).stdout,
        "this device was not subscribed\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps its VAPID key (0600) across restarts", async () => {
    const ola = await registerRaw(t.url, "wpr_ola");
    const key = async (): Promise<string> => {
      const s = await authedSocket(t.url, ola.token);
      try {
        return ((await s.call({ type: "push.status" })).result as { vapidPublicKey: string }).vapidPublicKey;
      } finally {
        s.close();
      }
    };
    const before = await key();
    const file = join(t.dataDir, "vapid-key.pem");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const pem = readFileSync(file, "utf8");
    await t.restart();
    assert.equal(await key(), before);
    assert.equal(readFileSync(file, "utf8"), pem);
    assert.ok(
      t.logs.some((l) => l.includes('"push.ready"') && l.includes(before)),
      "the operator sees the public key",
    );
  });
});

describe("push switched off and a damaged key", () => {
  it("with --push-hosts off there is no key and subscriptions are refused", async () => {
    const t = await startTestServer(["--push-hosts", "off"]);
    try {
      const pat = await registerRaw(t.url, "wpr_pat");
      const s = await authedSocket(t.url, pat.token);
      try {
        const status = await s.call({ type: "push.status" });
        assert.deepEqual(status.result, { vapidPublicKey: null, subscription: null });
        const r = await s.call(subscribe(browserSubscription("https://fcm.googleapis.com/fcm/send/x").json));
        assert.equal(r.code, "forbidden");
        assert.match(String(r.message), /switched off/);
      } finally {
        s.close();
      }
      assert.throws(() => statSync(join(t.dataDir, "vapid-key.pem")), /ENOENT/);
    } finally {
      await t.stop();
    }
  });

  it("a damaged VAPID key file stops the start, and is left for the operator to restore", async () => {
    const t = await startTestServer();
    try {
      const file = join(t.dataDir, "vapid-key.pem");
      await assert.rejects(
        t.restart(undefined, () => writeFileSync(file, "-----BEGIN PRIVATE KEY-----\nnope\n")),
        /vapid-key\.pem is not a PEM private key; restore it from a backup/,
      );
      assert.equal(readFileSync(file, "utf8"), "-----BEGIN PRIVATE KEY-----\nnope\n");
    } finally {
      // The first server is closed already; what is left is its data directory.
      await t.stop().catch(() => rmSync(t.dataDir, { recursive: true, force: true }));
    }
  });
});
