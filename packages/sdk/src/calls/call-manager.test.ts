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
