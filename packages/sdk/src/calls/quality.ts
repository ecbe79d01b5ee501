import type { StatsReportLike } from "./peer.ts";

export type CallQuality = "good" | "fair" | "poor" | "unknown";

/** What getStats tells about a call, reduced to what a person or a script cares about. */
export type CallStats = {
  /** Round-trip time in seconds (candidate pair or RTCP), null if not measured yet. */
  rttS: number | null;
  /** Fraction of incoming packets lost, 0..1, null if nothing was expected yet. */
  loss: number | null;
  /** Incoming audio jitter in seconds. */
  jitterS: number | null;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  quality: CallQuality;
};

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Reduces a stats report (browser or werift) to CallStats. */
export function summarizeStats(report: StatsReportLike): CallStats {
  let rtt: number | undefined;
  let jitter: number | undefined;
  let lost = 0;
  let received = 0;
  let sent = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  report.forEach((s) => {
    switch (s.type) {
      case "candidate-pair":
        if (s.state === "succeeded" && (s.nominated === true || s.selected === true))
          rtt = num(s.currentRoundTripTime) ?? rtt;
        break;
      case "remote-inbound-rtp":
        rtt ??= num(s.roundTripTime);
        break;
      case "inbound-rtp":
        received += num(s.packetsReceived) ?? 0;
        lost += Math.max(0, num(s.packetsLost) ?? 0);
        bytesReceived += num(s.bytesReceived) ?? 0;
        if (s.kind === "audio" || s.mediaType === "audio") jitter = num(s.jitter) ?? jitter;
        break;
      case "outbound-rtp":
        sent += num(s.packetsSent) ?? 0;
        bytesSent += num(s.bytesSent) ?? 0;
        break;
    }
  });
  const loss = received + lost > 0 ? lost / (received + lost) : null;
  const stats = {
    rttS: rtt ?? null,
    loss,
    jitterS: jitter ?? null,
    packetsSent: sent,
    packetsReceived: received,
    bytesSent,
    bytesReceived,
  };
  return { ...stats, quality: rateQuality(stats) };
}

/**
 * good / fair / poor from RTT, loss and jitter, with thresholds in line with the ITU-T G.114 delay
 * guidance (under 150 ms one way is good) and common VoIP loss budgets (Opus hides ~2 % well).
 */
export function rateQuality(s: {
  rttS: number | null;
  loss: number | null;
  jitterS: number | null;
}): CallQuality {
  if (s.rttS === null && s.loss === null && s.jitterS === null) return "unknown";
  const rtt = s.rttS ?? 0;
  const loss = s.loss ?? 0;
  const jitter = s.jitterS ?? 0;
  if (rtt > 0.6 || loss > 0.08 || jitter > 0.1) return "poor";
  if (rtt > 0.3 || loss > 0.02 || jitter > 0.03) return "fair";
  return "good";
}
