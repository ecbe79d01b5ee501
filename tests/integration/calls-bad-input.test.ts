import { PROTOCOL_VERSION } from "@sori/protocol";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeGroup, encrypt } from "@sori/crypto";
import { WebSocket } from "ws";
import {
  deviceToken,
  dumpDatabase,
  newUser,
  receive,
  reopen,
  storedGroupState,
  suiteServer,
} from "../helpers.ts";
import { enableCalls, waitFor } from "./call-helpers.ts";

type Frame = Record<string, unknown>;

/** A raw, authenticated protocol connection acting as an existing device. */
async function rawDevice(
  url: string,
  token: string,
): Promise<{ request(f: Frame): Promise<Frame>; close(): void }> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/api/v1/ws`);
  const waiting = new Map<number, (f: Frame) => void>();
  ws.on("message", (data) => {
    const f = JSON.parse(String(data)) as Frame;
    if (typeof f.re === "number") waiting.get(f.re)?.(f);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let id = 0;
  const request = (f: Frame): Promise<Frame> =>
    new Promise<Frame>((resolve, reject) => {
      const n = ++id;
      const timer = setTimeout(() => reject(new Error("no answer")), 5000);
      waiting.set(n, (x) => {
        clearTimeout(timer);
        resolve(x);
      });
      ws.send(JSON.stringify({ ...f, id: n }));
    });
  const auth = await request({ type: "auth", v: PROTOCOL_VERSION, token });
  assert.equal(auth.type, "result");
  return { request, close: () => ws.close() };
}

describe("transient call signalling: bad input", () => {
  const t = suiteServer();

  it("the server checks membership and epoch; garbage reaches the other side as a warning, not a crash", async () => {
    let alice = await newUser(t.url, "bad_alice");
    const bob = await newUser(t.url, "bad_bob");
    const m = await alice.sendText("bad_bob", "hi");
    await receive(bob, 1);
    const b = enableCalls(bob);
    const token = await deviceToken(alice);
    // A well-encrypted message from a real member whose call content is malformed.
    const forgedId = "CCCCCCCCCCCCCCCCCCCCCC";
    const plaintext = new TextEncoder().encode(
      JSON.stringify({
        v: 1,
        type: "call",
        id: forgedId,
        callId: "c",
        signal: { kind: "ring", media: "smell", sdp: "" },
        sentAt: 0,
      }),
    );
    const { message: malformedCall } = await encrypt(
      decodeGroup(await storedGroupState(alice, m.chat)),
      plaintext,
    );
    await alice.close();
    const raw = await rawDevice(t.url, token);
    const info = await raw.request({ type: "group.info", groupId: m.chat });
    const epoch = (info.result as { epoch: number }).epoch;
    const send = (extra: Frame): Promise<Frame> =>
      raw.request({
        type: "send",
        groupId: m.chat,
        epoch,
        messageId: "AAAAAAAAAAAAAAAAAAAAAA",
        data: Buffer.from("not an MLS message").toString("base64"),
        transient: true,
        ...extra,
      });
    const relayed = await send({});
    assert.equal(relayed.type, "result", JSON.stringify(relayed));
    assert.equal((relayed.result as { duplicate: boolean }).duplicate, false);
    await waitFor("bob's warning", () => b.warnings.some((w) => w.code === "call-signal-invalid"));
    const wellFormed = await send({
      messageId: forgedId,
      data: Buffer.from(malformedCall).toString("base64"),
    });
    assert.equal(wellFormed.type, "result");
    await waitFor(
      "a second warning",
      () => b.warnings.filter((w) => w.code === "call-signal-invalid").length === 2,
    );
    assert.equal(bob.calls.active, undefined, "a malformed ring does not ring");
    const stale = await send({ epoch: epoch + 5 });
    assert.equal(stale.code, "stale-epoch");
    const stranger = await send({ groupId: "BBBBBBBBBBBBBBBBBBBBBB" });
    assert.equal(stranger.code, "not-member");
    const malformed = await send({ transient: "yes" });
    assert.equal(malformed.code, "bad-frame");
    // Nothing transient was stored, and chatting still works.
    assert.ok(!dumpDatabase(t.dataDir).includes("AAAAAAAAAAAAAAAAAAAAAA"), "a transient message was stored");
    raw.close();
    // (Alice's stored state did not see the forged message's ratchet step, so Bob speaks next.)
    alice = await reopen(alice);
    await bob.sendText("bad_alice", "still here");
    const [next] = await receive(alice, 1);
    assert.equal(next?.text, "still here");
    assert.equal(bob.calls.active, undefined);
    await alice.close();
    await bob.close();
  });
});
