import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { API_PREFIX } from "@sori/protocol";
import { MemoryStorage, newMessageId, SdkError, type SoriClient } from "@sori/sdk";
import {
  bridgedIdentity,
  deviceToken,
  newUser,
  PASSWORD,
  receive,
  reopen,
  suiteServer,
  waitFor,
} from "../helpers.ts";

/** A bridged identity made by the gateway and opened, connected, as the gateway would run it. */

async function refusal(p: Promise<unknown>): Promise<SdkError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof SdkError, `expected an SdkError, got ${String(error)}`);
  return error;
}

describe("bridged identities (a gateway's namespace of accounts without passwords)", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let gateway: SoriClient;
  let alice: SoriClient;
  const open: SoriClient[] = [];

  before(async () => {
    gateway = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
  });
  after(async () => {
    for (const c of [...open, gateway, alice]) await c.close();
  });

  it("lets the namespace's gateway make an identity that chats like anyone, marked bridged", async () => {
    const juliet = await bridgedIdentity(gateway, "xmpp:juliet@xmpp.example.org");
    open.push(juliet);
    await juliet.sendText("alice", "hello from XMPP <&> 안녕");
    const [m] = await receive(alice, 1);
    assert.equal(m!.text, "hello from XMPP <&> 안녕");
    const chat = await alice.findChat("xmpp:juliet@xmpp.example.org");
    assert.ok(chat, "Alice has a direct chat with the bridged identity");
    assert.equal((await alice.findUser("xmpp:juliet@xmpp.example.org"))?.bridged, "xmpp");
    assert.equal((await alice.findUser("xmppgw"))?.gateway, true);
    assert.equal((await alice.findUser("alice"))?.bridged, undefined);
  });

  it("sends a text under the bridge's own id once, however often it asks (also after a restart)", async () => {
    let mercutio = await bridgedIdentity(gateway, "xmpp:mercutio@xmpp.example.org");
    const id = newMessageId();
    const first = await mercutio.sendText("alice", "only once", { id });
    assert.equal(first.id, id);
    assert.equal((await mercutio.sendText("alice", "only once", { id })).id, id);
    await mercutio.close();
    mercutio = await reopen(mercutio);
    open.push(mercutio);
    const again = await mercutio.sendText("alice", "only once", { id });
    assert.equal(again.id, id);
    assert.ok(again.status === "sent" || again.status === "delivered", again.status);
    const got = await receive(alice, 1);
    assert.deepEqual(
      got.map((m) => [m.id, m.text]),
      [[id, "only once"]],
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await alice.takeReceived(), [], "nothing arrives twice");
    const bad = await refusal(mercutio.sendText("alice", "x", { id: "not an id!" }));
    assert.equal(bad.code, "bad-request");
    await alice.sendText("xmpp:mercutio@xmpp.example.org", "hi");
    const [fromAlice] = await receive(mercutio, 1);
    const taken = await refusal(mercutio.sendText("alice", "x", { id: fromAlice!.id }));
    assert.equal(taken.code, "conflict");
  });

  it("sends a file under the bridge's own id once, and sends one a failure left unsent", async () => {
    const tybalt = await bridgedIdentity(gateway, "xmpp:tybalt@xmpp.example.org");
    open.push(tybalt);
    const id = newMessageId();
    const file = { name: "a.bin", mime: "application/octet-stream", bytes: new Uint8Array([1, 2, 3]) };
    const first = await tybalt.sendFile("alice", file, { id });
    assert.equal(first.id, id);
    assert.equal((await tybalt.sendFile("alice", file, { id })).id, id);
    const [got] = await receive(alice, 1);
    assert.equal(got!.id, id);
    assert.deepEqual(await alice.downloadFile(got!.chat, id), file.bytes);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await alice.takeReceived(), [], "nothing arrives twice");
    const bad = await refusal(tybalt.sendFile("alice", file, { id: "not an id!" }));
    assert.equal(bad.code, "bad-request");
    const text = await tybalt.sendText("alice", "a text");
    await receive(alice, 1);
    assert.equal((await refusal(tybalt.sendFile("alice", file, { id: text.id }))).code, "conflict");

    // An upload the server refused leaves the message "failed": the same id sends it once it can.
    const large = { ...file, bytes: new Uint8Array(1_500_000).fill(7) };
    const again = newMessageId();
    await server.restart(["--bridges", "xmpp=xmppgw", "--max-file-mb", "1"]);
    assert.equal((await refusal(tybalt.sendFile("alice", large, { id: again }))).code, "too-large");
    assert.equal((await tybalt.message(first.chat, again))?.status, "failed");
    await server.restart(["--bridges", "xmpp=xmppgw"]);
    const sent = await waitFor(
      () => tybalt.sendFile("alice", large, { id: again }).catch(() => undefined),
      (m) => m !== undefined,
      10_000,
      200,
    );
    assert.equal(sent!.id, again);
    const [late] = await receive(alice, 1);
    assert.equal(late!.id, again);
    assert.equal((await alice.downloadFile(late!.chat, again)).length, large.bytes.length);
  });

  it("refuses identities to anyone but the namespace's gateway, and a second one of a name", async () => {
    const denied = await refusal(
      alice.createBridgedIdentity({
        username: "xmpp:mallory@xmpp.example.org",
        storage: new MemoryStorage(),
      }),
    );
    assert.equal(denied.code, "forbidden");
    const other = await refusal(
      gateway.createBridgedIdentity({ username: "matrix:@bob:example.org", storage: new MemoryStorage() }),
    );
    assert.equal(other.code, "forbidden");
    const twice = await refusal(
      gateway.createBridgedIdentity({
        username: "xmpp:juliet@xmpp.example.org",
        storage: new MemoryStorage(),
      }),
    );
    assert.equal(twice.code, "username-taken");
    const malformed = await refusal(
      gateway.createBridgedIdentity({ username: "xmpp:has space@example.org", storage: new MemoryStorage() }),
    );
    assert.equal(malformed.code, "bad-request");
  });

  it("never lets a bridged identity sign in with a password, nor a person register one", async () => {
    for (const path of ["/login", "/register"]) {
      const res = await fetch(`${server.url}${API_PREFIX}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          username: "xmpp:juliet@xmpp.example.org",
          password: PASSWORD,
          device: { name: "x", signatureKey: "AAAA", transferKey: "AAAA" },
        }),
      });
      assert.equal(res.status, 400, path);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, "bad-request");
    }
  });

  it("has the gateway make an identity someone writes to first, then delivers to it", async () => {
    const made: SoriClient[] = [];
    const onWanted = (r: { username: string; by: string }): void => {
      void bridgedIdentity(gateway, r.username).then((c) => made.push(c));
    };
    const stop = gateway.on("bridge-wanted", onWanted);
    try {
      await alice.sendText("xmpp:romeo@xmpp.example.org", "are you there?");
      const romeo = await waitFor(
        async () => made[0],
        (c) => c !== undefined,
      );
      open.push(romeo!);
      const [m] = await receive(romeo!, 1);
      assert.equal(m!.text, "are you there?");
    } finally {
      stop();
    }
  });

  it("says plainly when no gateway reaches a namespace, or the gateway does not answer", async () => {
    const none = await refusal(alice.sendText("matrix:@bob:example.org", "hi"));
    assert.equal(none.code, "not-found");
    assert.match(none.message, /no gateway on this server reaches "matrix:" addresses/);
    // Nobody listens for bridge-wanted now: the look-up gives up after its bounded wait.
    const started = Date.now();
    const silent = await refusal(alice.sendText("xmpp:nobody@xmpp.example.org", "hi"));
    assert.equal(silent.code, "unknown-user");
    assert.match(silent.message, /did not bring xmpp:nobody@xmpp\.example\.org onto Sori in time/);
    assert.ok(Date.now() - started < 20_000);
  });

  it("removes an identity: its device is signed out and nobody can add it again", async () => {
    const temp = await bridgedIdentity(gateway, "xmpp:temp@xmpp.example.org");
    open.push(temp);
    const res = await fetch(
      `${server.url}${API_PREFIX}/bridge/identities/${encodeURIComponent("xmpp:temp@xmpp.example.org")}`,
      { method: "DELETE", headers: { authorization: `Bearer ${await deviceToken(gateway)}` } },
    );
    assert.equal(res.status, 204);
    const refused = await refusal(alice.sendText("xmpp:temp@xmpp.example.org", "still there?"));
    assert.equal(refused.code, "unknown-user");
    assert.match(refused.message, /no device that can be added/);
    const byAlice = await fetch(
      `${server.url}${API_PREFIX}/bridge/identities/${encodeURIComponent("xmpp:juliet@xmpp.example.org")}`,
      { method: "DELETE", headers: { authorization: `Bearer ${await deviceToken(alice)}` } },
    );
    assert.equal(byAlice.status, 403);
  });
});
