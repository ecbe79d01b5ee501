import assert from "node:assert/strict";
import { test } from "node:test";
import type { Call } from "./call.ts";
import { type CallHost, CallManager } from "./call-manager.ts";
import type { CallSignal } from "./call-signal.ts";
import type { CallPlatform, IceCandidateLike, PeerConnectionLike, RtpTransceiverLike } from "./peer.ts";

/** A peer connection that records what the call manager does with it. */
function fakePeer(log: { candidates: IceCandidateLike[]; remote: string[] }): PeerConnectionLike {
  const transceivers: RtpTransceiverLike[] = [
    { direction: "recvonly", mid: "0" },
    { direction: "recvonly", mid: "1" },
  ];
  const pc: PeerConnectionLike = {
    iceConnectionState: "new",
    localDescription: null,
    createOffer: async () => ({ type: "offer", sdp: "v=0 offer" }),
    createAnswer: async () => ({ type: "answer", sdp: "v=0 answer" }),
    setLocalDescription: async (d) => {
      (pc as { localDescription: unknown }).localDescription = d;
    },
    setRemoteDescription: async (d) => {
      log.remote.push(d.type);
    },
    addIceCandidate: async (c) => {
      log.candidates.push(c);
    },
    addTransceiver: () => transceivers[0]!,
    getTransceivers: () => transceivers,
    getStats: async () => new Map(),
    close: () => undefined,
    onicecandidate: null,
    oniceconnectionstatechange: null,
  };
  return pc;
}

test("candidates that arrive while a ring is still being checked are kept for the call", async () => {
  const log = { candidates: [] as IceCandidateLike[], remote: [] as string[] };
  const sent: CallSignal[] = [];
  const host: CallHost = {
    userId: "callee",
    deviceId: "callee-device",
    sendSignal: async (_chat, _call, signal) => {
      sent.push(signal);
    },
    sendCallLog: async () => undefined,
    directChat: async () => ({ chatId: "chat", peer: { userId: "caller", username: "caller" } }),
    // A real lookup reads storage: the ring's check takes a moment, and candidates come meanwhile.
    directPeer: async () => {
      await new Promise((r) => setTimeout(r, 20));
      return { userId: "caller", username: "caller" };
    },
    phoneLinesOf: async () => [],
    usernameOf: async (id) => id,
    isGateway: async () => false,
    turnCredentials: async () => ({ iceServers: [], ttlS: 0 }),
    warn: () => undefined,
  };
  const platform: CallPlatform = {
    createPeerConnection: () => fakePeer(log),
    startMedia: async () => ({
      setMuted: () => undefined,
      setCamera: () => undefined,
      switchInput: async () => undefined,
      stop: () => undefined,
    }),
  };
  const manager = new CallManager(host);
  manager.configure({ platform });
  const rang = new Promise<Call>((resolve) => manager.on("incoming", resolve));
  const from = { userId: "caller", deviceId: "caller-device" };
  const candidate = {
    candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
    sdpMid: "0",
    sdpMLineIndex: 0,
  };
  manager.handleSignal(
    "chat",
    from,
    "call-1",
    { kind: "ring", media: "audio", sdp: "v=0 offer" },
    Date.now(),
  );
  manager.handleSignal("chat", from, "call-1", { kind: "candidates", candidates: [candidate] }, Date.now());
  const call = await rang;
  await call.accept();
  await manager.flush();
  assert.deepEqual(log.remote, ["offer"]);
  assert.deepEqual(log.candidates, [candidate]);
  assert.equal(sent[0]?.kind, "accept");
  call.hangup();
  await manager.flush();
  assert.deepEqual(sent.at(-1), { kind: "hangup", to: "caller-device" });
});

/** A device `<name>-device` of user `<name>-id` whom "caller" (device "caller-device") rings in chat "chat". */
function calleeHost(name: string, sent: CallSignal[], gateway: boolean): CallHost {
  return {
    userId: `${name}-id`,
    deviceId: `${name}-device`,
    sendSignal: async (_chat, _call, signal) => {
      sent.push(signal);
    },
    sendCallLog: async () => undefined,
    directChat: async () => ({ chatId: "chat", peer: { userId: "caller", username: "caller" } }),
    directPeer: async () => ({ userId: "caller", username: "caller" }),
    phoneLinesOf: async () => [],
    usernameOf: async (id) => id,
    isGateway: async () => gateway,
    turnCredentials: async () => ({ iceServers: [], ttlS: 0 }),
    warn: () => undefined,
  };
}

const mediaPlatform = (log: { candidates: IceCandidateLike[]; remote: string[] }): CallPlatform => ({
  createPeerConnection: () => fakePeer(log),
  startMedia: async () => ({
    setMuted: () => undefined,
    setCamera: () => undefined,
    switchInput: async () => undefined,
    stop: () => undefined,
  }),
});

/** Bob's device calling Alice, who has a desk phone line at the gateway "gw" (chats "bob-alice", "bob-gw"). */
function forkedCaller(
  aliceLines: { id: string; name: string; gateway: { userId: string; username: string } }[] = [
    { id: "line-desk-1", name: "desk", gateway: { userId: "gw-id", username: "gw" } },
  ],
): {
  manager: CallManager;
  sent: { chat: string; signal: CallSignal }[];
  log: { candidates: IceCandidateLike[]; remote: string[] };
  chatsOpened: string[];
  warnings: string[];
} {
  const chatsOpened: string[] = [];
  const warnings: string[] = [];
  const log = { candidates: [] as IceCandidateLike[], remote: [] as string[] };
  const sent: { chat: string; signal: CallSignal }[] = [];
  const people: Record<string, { chatId: string; peer: { userId: string; username: string } }> = {
    alice: { chatId: "bob-alice", peer: { userId: "alice-id", username: "alice" } },
    gw: { chatId: "bob-gw", peer: { userId: "gw-id", username: "gw" } },
    mallory: { chatId: "bob-mallory", peer: { userId: "mallory-id", username: "mallory" } },
  };
  const host: CallHost = {
    userId: "bob-id",
    deviceId: "bob-device",
    sendSignal: async (chat, _call, signal) => {
      sent.push({ chat, signal });
    },
    sendCallLog: async () => undefined,
    directChat: async (target) => {
      chatsOpened.push(target);
      return people[target]!;
    },
    directPeer: async (chatId) => Object.values(people).find((p) => p.chatId === chatId)?.peer,
    phoneLinesOf: async (userId) => (userId === "alice-id" ? aliceLines : []),
    usernameOf: async (id) => id.replace(/-id$/, ""),
    isGateway: async (id) => id === "gw-id",
    turnCredentials: async () => ({ iceServers: [], ttlS: 0 }),
    warn: (_code, message) => {
      warnings.push(message);
    },
  };
  const manager = new CallManager(host);
  manager.configure({ platform: mediaPlatform(log), useServerTurn: false });
  return { manager, sent, log, chatsOpened, warnings };
}

test("a call rings the callee's phone line too, and the line that answers takes the call", async () => {
  const { manager, sent, log } = forkedCaller();
  const call = await manager.start("alice");
  await manager.flush();
  const rings = sent.filter((s) => s.signal.kind === "ring");
  assert.deepEqual(
    rings.map((r) => [r.chat, r.signal.kind === "ring" ? r.signal.lines : undefined]),
    [
      ["bob-alice", undefined],
      ["bob-gw", [{ owner: "alice-id", id: "line-desk-1" }]],
    ],
  );
  sent.length = 0;
  const via = { network: "sip" as const, uri: "sip:alice@gw.example" };
  manager.handleSignal(
    "bob-gw",
    { userId: "gw-id", deviceId: "gw-device" },
    call.id,
    { kind: "accept", to: "bob-device", sdp: "v=0 answer", via },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 10));
  await manager.flush();
  assert.deepEqual(log.remote, ["answer"]);
  assert.equal(call.peerDeviceId, "gw-device");
  assert.equal(call.via?.uri, "sip:alice@gw.example");
  assert.equal(call.via?.name, "desk");
  assert.deepEqual(call.lineOwner, { userId: "alice-id", username: "alice" });
  // Alice's devices stop ringing; what goes to the answering phone goes to the gateway's chat.
  assert.deepEqual(
    sent.find((s) => s.signal.kind === "cancel"),
    { chat: "bob-alice", signal: { kind: "cancel", reason: "answered-elsewhere" } },
  );
  assert.ok(
    sent.filter((s) => "to" in s.signal && s.signal.to === "gw-device").every((s) => s.chat === "bob-gw"),
  );
  call.hangup();
  await manager.flush();
  assert.deepEqual(sent.at(-1), { chat: "bob-gw", signal: { kind: "hangup", to: "gw-device" } });
});

test("a busy phone line drops out alone; an answer on a device then cancels nothing there", async () => {
  const { manager, sent } = forkedCaller();
  const call = await manager.start("alice");
  manager.handleSignal(
    "bob-gw",
    { userId: "gw-id", deviceId: "gw-device" },
    call.id,
    { kind: "busy", to: "bob-device" },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(call.state, "ringing-out");
  manager.handleSignal(
    "bob-alice",
    { userId: "alice-id", deviceId: "alice-phone" },
    call.id,
    { kind: "accept", to: "bob-device", sdp: "v=0 answer" },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 10));
  await manager.flush();
  assert.equal(call.peerDeviceId, "alice-phone");
  assert.equal(call.via, undefined);
  assert.equal(sent.filter((s) => s.signal.kind === "cancel").length, 0);
  // Someone other than the gateway cannot answer in the gateway's chat.
  manager.handleSignal(
    "bob-gw",
    { userId: "mallory-id", deviceId: "m" },
    call.id,
    { kind: "hangup", to: "bob-device" },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(call.state, "ended");
  call.hangup();
  await manager.flush();
});

test("a ring from someone's phone line keeps the claim only if their profile lists it at that gateway", async () => {
  const { manager } = forkedCaller();
  const calls: Call[] = [];
  manager.on("incoming", (c) => calls.push(c));
  const ring = (callId: string, owner: string, id: string): void =>
    manager.handleSignal(
      "bob-gw",
      { userId: "gw-id", deviceId: "gw-device" },
      callId,
      {
        kind: "ring",
        media: "audio",
        sdp: "v=0 offer",
        via: { network: "sip", uri: "sip:alice@gw.example", name: "desk", line: { owner, id } },
      },
      Date.now(),
    );
  ring("c1", "alice-id", "line-desk-1");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(calls[0]?.lineOwner, { userId: "alice-id", username: "alice" });
  assert.equal(calls[0]?.via?.line?.id, "line-desk-1");
  calls[0]?.decline();
  ring("c2", "alice-id", "line-made-up");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls[1]?.lineOwner, undefined);
  assert.equal(calls[1]?.via?.line, undefined);
  assert.equal(calls[1]?.via?.uri, "sip:alice@gw.example");
  calls[1]?.decline();
  await manager.flush();
});

test("only an account the directory marks as a gateway may name a phone caller", async () => {
  const { manager } = forkedCaller();
  const calls: Call[] = [];
  manager.on("incoming", (c) => calls.push(c));
  manager.handleSignal(
    "bob-mallory",
    { userId: "mallory-id", deviceId: "m-device" },
    "c-forged",
    {
      kind: "ring",
      media: "audio",
      sdp: "v=0 offer",
      via: { network: "sip", uri: "sip:bank@example.com", name: "Your bank" },
    },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls[0]?.peer.username, "mallory");
  assert.equal(calls[0]?.via, undefined, "shown as mallory's own call");
  calls[0]?.decline();
  await manager.flush();
});

test("lines at one gateway ring together there; a 'gateway' the directory does not mark is never called", async () => {
  const gw = { userId: "gw-id", username: "gw" };
  const { manager, sent, chatsOpened } = forkedCaller([
    { id: "line-desk-1", name: "desk", gateway: gw },
    { id: "line-soft-1", name: "laptop", gateway: gw },
    // Alice's profile could name anyone as a gateway: calling her must not make Bob's device call them.
    { id: "line-fake-1", name: "fake", gateway: { userId: "mallory-id", username: "mallory" } },
  ]);
  const call = await manager.start("alice");
  await manager.flush();
  const rings = sent.filter((s) => s.signal.kind === "ring");
  assert.deepEqual(
    rings.map((r) => [r.chat, r.signal.kind === "ring" ? r.signal.lines?.map((l) => l.id) : undefined]),
    [
      ["bob-alice", undefined],
      ["bob-gw", ["line-desk-1", "line-soft-1"]],
    ],
  );
  assert.ok(!chatsOpened.includes("mallory"), "no chat was made with the account that is not a gateway");
  // Someone else speaking in the gateway's chat cannot answer for it.
  manager.handleSignal(
    "bob-gw",
    { userId: "mallory-id", deviceId: "m" },
    call.id,
    { kind: "accept", to: "bob-device", sdp: "v=0 answer" },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(call.state, "ringing-out");
  // The gateway says the laptop took it: the caller names it as Alice's profile does.
  manager.handleSignal(
    "bob-gw",
    { userId: "gw-id", deviceId: "gw-device" },
    call.id,
    {
      kind: "accept",
      to: "bob-device",
      sdp: "v=0 answer",
      via: {
        network: "sip",
        uri: "sip:alice@gw",
        name: "made-up",
        line: { owner: "alice-id", id: "line-soft-1" },
      },
    },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(call.via?.name, "laptop");
  call.hangup();
  await manager.flush();
});

test("a ring claiming Alice's real line from another gateway's chat loses the claim", async () => {
  const { manager } = forkedCaller();
  const calls: Call[] = [];
  manager.on("incoming", (c) => calls.push(c));
  manager.handleSignal(
    "bob-mallory",
    { userId: "mallory-id", deviceId: "m-device" },
    "c-other-gw",
    {
      kind: "ring",
      media: "audio",
      sdp: "v=0 offer",
      via: { network: "sip", uri: "sip:alice@elsewhere", line: { owner: "alice-id", id: "line-desk-1" } },
    },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls[0]?.lineOwner, undefined);
  assert.equal(calls[0]?.via, undefined, "mallory is no gateway: no phone party at all");
  calls[0]?.decline();
  await manager.flush();
});

test("keys the platform receives are the call's dtmf events; hold goes to the other side and back", async () => {
  const log = { candidates: [] as IceCandidateLike[], remote: [] as string[] };
  const sent: CallSignal[] = [];
  const host = calleeHost("callee", sent, false);
  let received: ((key: string) => void) | undefined;
  const muted: boolean[] = [];
  const platform: CallPlatform = {
    createPeerConnection: () => fakePeer(log),
    startMedia: async ({ onDtmf }) => {
      received = onDtmf;
      return {
        setMuted: (m) => {
          muted.push(m);
        },
        setCamera: () => undefined,
        switchInput: async () => undefined,
        stop: () => undefined,
      };
    },
  };
  const manager = new CallManager(host);
  manager.configure({ platform });
  const rang = new Promise<Call>((resolve) => manager.on("incoming", resolve));
  const from = { userId: "caller", deviceId: "caller-device" };
  manager.handleSignal(
    "chat",
    from,
    "call-1",
    { kind: "ring", media: "audio", sdp: "v=0 offer" },
    Date.now(),
  );
  const call = await rang;
  await call.accept();
  const keys: string[] = [];
  call.on("dtmf", (k) => keys.push(k));
  received?.("1");
  received?.("#");
  assert.deepEqual(keys, ["1", "#"]);

  await call.setOnHold(true);
  await manager.flush();
  assert.deepEqual(sent.at(-1), {
    kind: "media",
    to: "caller-device",
    audio: true,
    video: false,
    held: true,
  });
  assert.equal(call.onHold, true);
  // Muting while held keeps media off; taking the hold off leaves it muted.
  await call.setMuted(true);
  await call.setOnHold(false);
  await manager.flush();
  assert.deepEqual(sent.at(-1), { kind: "media", to: "caller-device", audio: false, video: false });
  assert.deepEqual(muted, [true, true, true]);

  const seen: boolean[] = [];
  call.on("remote-media", (m) => seen.push(m.held));
  const media = { kind: "media", to: "callee-device", audio: true, video: false } as const;
  // Signals are handled in order, each after the one before: wait (bounded) for both.
  manager.handleSignal("chat", from, "call-1", { ...media, held: true }, Date.now());
  manager.handleSignal("chat", from, "call-1", media, Date.now());
  for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [true, false]);
  assert.equal(call.remoteMedia.held, false);
  call.hangup();
  await manager.flush();
});

/** One side of a call with a platform that records mute changes and every peer connection made. */
function recordingPlatform(log: { candidates: IceCandidateLike[]; remote: string[] }): {
  platform: CallPlatform;
  muted: boolean[];
  pcs: PeerConnectionLike[];
  answers: () => number;
} {
  const muted: boolean[] = [];
  const pcs: PeerConnectionLike[] = [];
  let answers = 0;
  const platform: CallPlatform = {
    createPeerConnection: () => {
      const pc = fakePeer(log);
      const createAnswer = pc.createAnswer.bind(pc);
      pc.createAnswer = () => {
        answers++;
        return createAnswer();
      };
      pcs.push(pc);
      return pc;
    },
    startMedia: async () => ({
      setMuted: (m) => {
        muted.push(m);
      },
      setCamera: () => undefined,
      switchInput: async () => undefined,
      stop: () => undefined,
    }),
  };
  return { platform, muted, pcs, answers: () => answers };
}

test("early media: the caller applies the gateway's early answer, sends nothing, and connects on the accept", async () => {
  const { manager, log, warnings } = forkedCaller([]);
  const rec = recordingPlatform(log);
  manager.configure({ platform: rec.platform, useServerTurn: false });
  const call = await manager.start("gw", { via: { network: "sip", uri: "tel:+8210" } });
  const states: string[] = [];
  call.on("state", (s) => states.push(s));
  const gwDevice = { userId: "gw-id", deviceId: "gw-device" };
  manager.handleSignal(
    "bob-gw",
    gwDevice,
    call.id,
    { kind: "early", to: "bob-device", sdp: "v=0 early" },
    Date.now(),
  );
  await manager.flush();
  for (let i = 0; i < 100 && log.remote.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(call.state, "early-media");
  assert.deepEqual(log.remote, ["answer"]);
  assert.deepEqual(rec.muted, [true], "nothing of the caller is sent before the answer");
  assert.equal(call.peerDeviceId, "gw-device");
  // ICE connects while the announcement plays: still not answered.
  const pc = rec.pcs[0]! as { iceConnectionState: string; oniceconnectionstatechange: (() => void) | null };
  pc.iceConnectionState = "connected";
  pc.oniceconnectionstatechange?.();
  assert.equal(call.state, "early-media");
  assert.equal(call.connectedAt, null);
  manager.handleSignal(
    "bob-gw",
    gwDevice,
    call.id,
    { kind: "accept", to: "bob-device", sdp: "v=0 early" },
    Date.now(),
  );
  const state = (): string => call.state;
  for (let i = 0; i < 100 && state() !== "connected"; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(state(), "connected", "answered, with ICE up already");
  assert.deepEqual(log.remote, ["answer"], "the accept's repeated answer is not applied twice");
  assert.deepEqual(rec.muted, [true, false]);
  assert.deepEqual(states, ["early-media", "connecting", "connected"]);
  call.hangup();
  await manager.flush();
  assert.deepEqual(warnings, []);
});

test("early media is taken only from a gateway, and not in a forked call", async () => {
  const notGateway = forkedCaller([]);
  const call = await notGateway.manager.start("mallory", { via: { network: "sip", uri: "sip:x@y" } });
  notGateway.manager.handleSignal(
    "bob-mallory",
    { userId: "mallory-id", deviceId: "mallory-device" },
    call.id,
    { kind: "early", to: "bob-device", sdp: "v=0 early" },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 20));
  await notGateway.manager.flush();
  assert.equal(
    call.state,
    "ringing-out",
    "an account that is not a gateway cannot make the caller listen early",
  );
  assert.deepEqual(notGateway.log.remote, []);
  assert.deepEqual(notGateway.warnings, ["ignored early media from an account that is not a gateway"]);
  call.hangup();

  const forked = forkedCaller();
  const ringing = await forked.manager.start("alice");
  forked.manager.handleSignal(
    "bob-gw",
    { userId: "gw-id", deviceId: "gw-device" },
    ringing.id,
    { kind: "early", to: "bob-device", sdp: "v=0 early" },
    Date.now(),
  );
  await new Promise((r) => setTimeout(r, 20));
  await forked.manager.flush();
  assert.equal(
    ringing.state,
    "ringing-out",
    "a device of the callee may still answer: its answer must apply",
  );
  assert.deepEqual(forked.log.remote, []);
  assert.deepEqual(forked.warnings, [], "a fork's early media is normal, not a fault");
  ringing.hangup();
});

test("early media on the gateway's side: the answer goes out as 'early', and accept() sends it again without a second answer", async () => {
  const log = { candidates: [] as IceCandidateLike[], remote: [] as string[] };
  const sent: CallSignal[] = [];
  const host = calleeHost("gw", sent, true);
  const rec = recordingPlatform(log);
  const manager = new CallManager(host);
  manager.configure({ platform: rec.platform });
  const rang = new Promise<Call>((resolve) => manager.on("incoming", resolve));
  manager.handleSignal(
    "chat",
    { userId: "caller", deviceId: "caller-device" },
    "call-e",
    { kind: "ring", media: "audio", sdp: "v=0 offer" },
    Date.now(),
  );
  const call = await rang;
  const [first, again] = await Promise.all([call.earlyMedia(), call.earlyMedia()]);
  assert.deepEqual([first, again], [true, true], "one setup, however often it is asked for");
  await manager.flush();
  assert.deepEqual(
    sent.map((s) => s.kind),
    ["early"],
  );
  assert.equal(call.state, "ringing-in", "early media does not answer the call");
  await call.accept();
  await manager.flush();
  assert.deepEqual(sent.map((s) => s.kind).slice(0, 2), ["early", "accept"]);
  assert.equal(rec.answers(), 1);
  assert.equal(rec.pcs.length, 1);
  assert.deepEqual(log.remote, ["offer"]);
  call.hangup();
  await manager.flush();

  // Declined after early media: the caller is told so, as for any ringing call.
  const rang2 = new Promise<Call>((resolve) => manager.on("incoming", resolve));
  manager.handleSignal(
    "chat",
    { userId: "caller", deviceId: "caller-device" },
    "call-f",
    { kind: "ring", media: "audio", sdp: "v=0 offer" },
    Date.now(),
  );
  const refused = await rang2;
  await refused.earlyMedia();
  refused.decline({ reason: "busy" });
  await manager.flush();
  assert.deepEqual(sent.at(-1), { kind: "busy", to: "caller-device" });
  assert.equal(await refused.earlyMedia(), false, "nothing more once it has ended");
});
