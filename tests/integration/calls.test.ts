import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { newDevice, newUser, receive, startTestServer, type TestServer } from "../helpers.ts";
import { enableCalls, nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";

/** Two users with a direct chat both have joined; returns its id. */
async function chatBetween(a: SoriClient, b: SoriClient, ...others: SoriClient[]): Promise<string> {
  const m = await a.sendText(b.username, "hi");
  await receive(b, 1);
  for (const o of others)
    await waitFor("the chat on every device", async () => (await o.findChat(m.chat))?.active === true);
  return m.chat;
}

describe("calls between two werift peers (loopback)", () => {
  let t: TestServer;
  const clients: SoriClient[] = [];
  const track = (c: SoriClient): SoriClient => {
    clients.push(c);
    return c;
  };

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await t.stop();
  });

  it("connects, media flows both ways, hangup ends both sides, and both histories show it", async () => {
    const alice = track(await newUser(t.url, "call_alice"));
    const bob = track(await newUser(t.url, "call_bob"));
    const chat = await chatBetween(alice, bob);
    const a = enableCalls(alice);
    const b = enableCalls(bob);
    const call = await alice.calls.start("call_bob");
    assert.equal(call.state, "ringing-out");
    const incoming = await nextIncoming(bob);
    assert.equal(incoming.peer.username, "call_alice");
    assert.equal(incoming.media, "audio");
    assert.equal(incoming.id, call.id);
    await incoming.accept();
    await waitState(call, "connected");
    await waitState(incoming, "connected");
    await waitFor("packets both ways", () => a.counters.received > 25 && b.counters.received > 25);
    assert.ok(call.connectedAt !== null);
    const stats = await call.stats();
    // Quality itself depends on the machine's load (jitter); what getStats must give is measured.
    assert.ok(
      stats && stats.packetsReceived > 0 && stats.rttS !== null && stats.loss !== null,
      JSON.stringify(stats),
    );
    assert.ok(["good", "fair", "poor"].includes(stats.quality));
    call.hangup();
    await waitState(incoming, "ended");
    assert.equal(call.endReason, "hangup");
    assert.equal(incoming.endReason, "remote-hangup");
    await waitFor("the call in bob's history", async () =>
      (await bob.history(chat)).some((m) => m.kind === "call"),
    );
    const [mine] = (await alice.history(chat)).filter((m) => m.kind === "call");
    const [theirs] = (await bob.history(chat)).filter((m) => m.kind === "call");
    assert.equal(mine?.call?.direction, "outgoing");
    assert.equal(mine?.call?.outcome, "answered");
    assert.equal(theirs?.call?.direction, "incoming");
    assert.equal(theirs?.call?.missed, false);
    assert.equal(theirs?.call?.callId, call.id);
    assert.deepEqual(a.warnings, []);
    assert.deepEqual(b.warnings, []);
  });

  it("an ICE restart mid-call keeps packets flowing and the call up", async () => {
    const alice = track(await newUser(t.url, "ice_alice"));
    const bob = track(await newUser(t.url, "ice_bob"));
    await chatBetween(alice, bob);
    const a = enableCalls(alice);
    const b = enableCalls(bob);
    const call = await alice.calls.start("ice_bob");
    const incoming = await nextIncoming(bob);
    await incoming.accept();
    await waitState(call, "connected");
    await waitFor("media", () => a.counters.received > 10 && b.counters.received > 10);
    const ufrag = (sdp: string | undefined): string | undefined => sdp?.match(/a=ice-ufrag:(\S+)/)?.[1];
    const before = ufrag(call.peerConnection?.localDescription?.sdp);
    const states: string[] = [];
    call.on("state", (s) => states.push(s));
    incoming.on("state", (s) => states.push(`callee:${s}`));
    call.restartIce();
    await waitFor("new ICE credentials", () => ufrag(call.peerConnection?.localDescription?.sdp) !== before);
    const [sent, got] = [b.counters.received, a.counters.received];
    // Bounded in time, not a fixed window: on a loaded machine the 20 ms tone ticks run late.
    await waitFor(
      "packets both ways after the restart",
      () => b.counters.received - sent > 40 && a.counters.received - got > 40,
      15_000,
    );
    assert.equal(call.state, "connected");
    assert.equal(incoming.state, "connected");
    assert.ok(!states.includes("ended") && !states.includes("callee:ended"), states.join());
    call.hangup();
    await waitState(incoming, "ended");
  });

  it("losing the signalling WebSocket mid-call does not end it; signals work again after", async () => {
    const alice = track(await newUser(t.url, "ws_alice"));
    const bob = track(await newUser(t.url, "ws_bob"));
    await chatBetween(alice, bob);
    const a = enableCalls(alice);
    const b = enableCalls(bob);
    const call = await alice.calls.start("ws_bob");
    const incoming = await nextIncoming(bob);
    await incoming.accept();
    await waitState(incoming, "connected");
    await waitFor("media", () => a.counters.received > 10 && b.counters.received > 10);
    const states: string[] = [];
    call.on("state", (s) => states.push(s));
    incoming.on("state", (s) => states.push(`callee:${s}`));
    alice.dropConnection();
    bob.dropConnection();
    const got = b.counters.received;
    await waitFor("media flowing after the drop", () => b.counters.received - got > 25, 15_000);
    assert.equal(call.state, "connected");
    assert.equal(incoming.state, "connected");
    assert.deepEqual(states, [], "the call never left 'connected'");
    await waitFor(
      "reconnected",
      () => alice.connectionState === "connected" && bob.connectionState === "connected",
    );
    await incoming.setMuted(true);
    await waitFor("the mute reached the caller", () => !call.remoteMedia.audio);
    incoming.hangup();
    await waitState(call, "ended");
    assert.equal(call.endReason, "remote-hangup");
  });

  it("a voice call is upgraded to video by the callee: renegotiated, video flows, nobody redials", async () => {
    const alice = track(await newUser(t.url, "vid_alice"));
    const bob = track(await newUser(t.url, "vid_bob"));
    await chatBetween(alice, bob);
    const a = enableCalls(alice);
    const b = enableCalls(bob);
    const call = await alice.calls.start("vid_bob");
    const incoming = await nextIncoming(bob);
    await incoming.accept();
    await waitState(call, "connected");
    await waitFor("audio", () => a.counters.received > 10);
    assert.equal(a.counters.receivedVideo, 0, "a voice call carries no video");
    await incoming.upgradeToVideo();
    await waitFor("video from the callee", () => a.counters.receivedVideo > 5);
    await waitFor("the callee's camera state", () => call.media === "video" && call.remoteMedia.video);
    await call.setCamera(true);
    await waitFor("video from the caller", () => b.counters.receivedVideo > 5);
    assert.equal(call.state, "connected");
    assert.deepEqual([...a.warnings, ...b.warnings], []);
    call.hangup();
    await waitState(incoming, "ended");
  });

  it("a call survives the chat's group changing epoch mid-call (the callee adds a device)", async () => {
    const alice = track(await newUser(t.url, "epoch_alice"));
    const bob = track(await newUser(t.url, "epoch_bob"));
    const chat = await chatBetween(alice, bob);
    const a = enableCalls(alice);
    const b = enableCalls(bob);
    const call = await alice.calls.start("epoch_bob");
    const incoming = await nextIncoming(bob);
    await incoming.accept();
    await waitState(call, "connected");
    const before = (await alice.history(chat)).length;
    const bob2 = track(await newDevice(t.url, bob));
    // Bob's first device commits the new device into the chat; everyone's epoch moves on.
    await waitFor(
      "the new device in the chat",
      async () => (await bob2.findChat(chat))?.active === true,
      15_000,
    );
    call.restartIce();
    const got = b.counters.received;
    await waitFor("media after the restart", () => b.counters.received - got > 40);
    await incoming.setMuted(true);
    await waitFor("signals still reach the caller", () => !call.remoteMedia.audio);
    call.hangup();
    await waitState(incoming, "ended");
    assert.equal(incoming.endReason, "remote-hangup");
    assert.ok((await alice.history(chat)).length >= before);
    assert.deepEqual([...a.warnings, ...b.warnings], []);
  });

  it("rings every device of the callee, not the caller's; answering on one stops the other; decline too", async () => {
    const alice = track(await newUser(t.url, "md_alice"));
    const bob1 = track(await newUser(t.url, "md_bob"));
    const bob2 = track(await newDevice(t.url, bob1));
    const alice2 = track(await newDevice(t.url, alice));
    await chatBetween(alice, bob1, bob2, alice2);
    enableCalls(alice);
    enableCalls(bob1);
    const b2 = enableCalls(bob2);
    enableCalls(alice2);
    let aliceOtherRang = false;
    alice2.calls.on("incoming", () => {
      aliceOtherRang = true;
    });
    const ring1 = nextIncoming(bob1);
    const ring2 = nextIncoming(bob2);
    const call = await alice.calls.start("md_bob");
    const [on1, on2] = [await ring1, await ring2];
    await on2.accept();
    await waitState(on1, "ended");
    assert.equal(on1.endReason, "answered-elsewhere");
    await waitState(call, "connected");
    assert.equal(call.peerDeviceId, bob2.deviceId);
    await waitFor("media on the answering device", () => b2.counters.received > 10);
    call.hangup();
    await waitState(on2, "ended");
    assert.equal(aliceOtherRang, false);

    const again1 = nextIncoming(bob1);
    const again2 = nextIncoming(bob2);
    const second = await alice.calls.start("md_bob", { video: true });
    const [r1, r2] = [await again1, await again2];
    assert.equal(r1.media, "video");
    r1.decline();
    await waitState(second, "ended");
    assert.equal(second.endReason, "declined");
    await waitState(r2, "ended");
    assert.equal(r2.endReason, "declined-elsewhere");
  });

  it("busy, cancel and no-answer end the ringing with the right reason and a missed-call entry", async () => {
    const alice = track(await newUser(t.url, "ring_alice"));
    const bob = track(await newUser(t.url, "ring_bob"));
    const carol = track(await newUser(t.url, "ring_carol"));
    const chat = await chatBetween(alice, bob);
    await chatBetween(carol, bob);
    enableCalls(alice, { ringTimeoutMs: 1500 });
    enableCalls(bob, { ringTimeoutMs: 1500 });
    const c = enableCalls(carol);

    // Cancelled by the caller.
    const ringing = nextIncoming(bob);
    const cancelled = await alice.calls.start("ring_bob");
    const r = await ringing;
    cancelled.hangup();
    await waitState(r, "ended");
    assert.equal(cancelled.endReason, "cancelled");
    assert.equal(r.endReason, "missed");

    // Nobody answers (the injected 1.5 s ring timeout).
    const ringing2 = nextIncoming(bob);
    const unanswered = await alice.calls.start("ring_bob");
    const r2 = await ringing2;
    await waitState(unanswered, "ended", 5000);
    assert.equal(unanswered.endReason, "no-answer");
    await waitState(r2, "ended", 10_000);
    assert.equal(r2.endReason, "missed");
    await waitFor(
      "two missed calls in bob's history",
      async () => (await bob.history(chat)).filter((m) => m.call?.missed).length === 2,
    );
    const summary = (await bob.chats()).find((c) => c.id === chat);
    assert.equal(summary?.unread, 3, "the text and both missed calls are unread");

    // Busy: bob is in a call with carol when alice calls.
    const ringing3 = nextIncoming(bob);
    const withCarol = await carol.calls.start("ring_bob");
    const r3 = await ringing3;
    await r3.accept();
    await waitState(withCarol, "connected");
    // Hanging up while DTLS is still handshaking leaves werift retransmitting for 30 s: let media start.
    await waitFor("media", () => c.counters.received > 5);
    const busy = await alice.calls.start("ring_bob");
    await waitState(busy, "ended");
    assert.equal(busy.endReason, "busy");
    assert.equal(withCarol.state, "connected");
    assert.equal(r3.state, "connected");
    withCarol.hangup();
    await waitState(r3, "ended");
  });

  it("forged and misdirected call signals are ignored with a warning; the call goes on", async () => {
    const alice = track(await newUser(t.url, "forge_alice"));
    const bob = track(await newUser(t.url, "forge_bob"));
    const chat = await chatBetween(alice, bob);
    enableCalls(alice);
    const b = enableCalls(bob);
    const call = await alice.calls.start("forge_bob");
    const incoming = await nextIncoming(bob);
    await incoming.accept();
    await waitState(incoming, "connected");
    // From someone who is not in the call.
    bob.calls.handleSignal(
      chat,
      { userId: "stranger-user-id", deviceId: "x" },
      call.id,
      { kind: "hangup", to: bob.deviceId },
      Date.now(),
    );
    // From the caller's user but another device than the one in the call.
    bob.calls.handleSignal(
      chat,
      { userId: alice.userId, deviceId: "other-device" },
      call.id,
      { kind: "hangup", to: bob.deviceId },
      Date.now(),
    );
    // For a call that does not exist, addressed here.
    bob.calls.handleSignal(
      chat,
      { userId: alice.userId, deviceId: alice.deviceId },
      "no-such-call",
      { kind: "hangup", to: bob.deviceId },
      Date.now(),
    );
    // A ring in a chat that is not a direct chat with the sender.
    bob.calls.handleSignal(
      "not-a-chat",
      { userId: alice.userId, deviceId: alice.deviceId },
      "ring-2",
      { kind: "ring", media: "audio", sdp: "v=0" },
      Date.now(),
    );
    await waitFor(
      "four warnings",
      () => b.warnings.filter((w) => w.code === "call-signal-ignored").length === 4,
    );
    await sleep(300);
    assert.equal(incoming.state, "connected");
    assert.equal(call.state, "connected");
    call.hangup();
    await waitState(incoming, "ended");
  });
});
