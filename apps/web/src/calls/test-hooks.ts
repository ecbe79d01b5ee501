import type { Call } from "@sori/sdk";

/**
 * Settings and probes for browser tests. A test defines `window.__soriTest` in an init script before
 * the app starts; in normal use it is absent and none of this exists. Nothing here is reachable from a
 * URL, so a link cannot change how someone's calls behave.
 */
export type TestHooks = {
  /** Outgoing calls ring this long before "no answer" (the app's default is the SDK's 45 s). */
  ringTimeoutMs?: number;
  /** How long an ended call stays on screen (tests close it themselves, so a slow machine cannot race it). */
  endedNoticeMs?: number;
  /** Filled in by the app: RTP counters of the active call, per media kind. */
  rtpStats?: () => Promise<RtpCounters | null>;
  /** Filled in by the app: ICE restarts of the active call so far. */
  iceRestarts?: () => number;
};

export type RtpDirection = {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
};
export type RtpCounters = { audio: RtpDirection; video: RtpDirection };

export function testHooks(): TestHooks | undefined {
  const hooks = (window as { __soriTest?: unknown }).__soriTest;
  return typeof hooks === "object" && hooks !== null ? (hooks as TestHooks) : undefined;
}

/** Adds up outbound-rtp and inbound-rtp records of a peer connection's statistics, per kind. */
export async function rtpCounters(call: Call): Promise<RtpCounters | null> {
  const pc = call.peerConnection;
  if (!pc) return null;
  const zero = (): RtpDirection => ({ packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0 });
  const out: RtpCounters = { audio: zero(), video: zero() };
  const report = await pc.getStats();
  report.forEach((s) => {
    const kind = s.kind === "audio" || s.kind === "video" ? s.kind : null;
    if (!kind) return;
    const num = (v: unknown): number => (typeof v === "number" ? v : 0);
    if (s.type === "outbound-rtp") {
      out[kind].packetsSent += num(s.packetsSent);
      out[kind].bytesSent += num(s.bytesSent);
    } else if (s.type === "inbound-rtp") {
      out[kind].packetsReceived += num(s.packetsReceived);
      out[kind].bytesReceived += num(s.bytesReceived);
    }
  });
  return out;
}
