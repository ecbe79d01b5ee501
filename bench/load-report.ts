// What one run of the message-load benchmark reports: the figures (`--json` prints them) and the
// human-readable summary.
import type { LoadOptions } from "./options.ts";

export type Percentiles = { n: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Every figure of one run; `--json` prints exactly this. */
export type LoadReport = {
  date: string;
  options: Omit<LoadOptions, "json" | "help" | "out" | "keepData" | "waitIdle">;
  host: { cores: number; cpuModel: string; memoryGiB: number; node: string; serverRevision: string };
  setup: { registerS: number; connectS: number; groupsS: number; groups: number };
  window: { seconds: number; sent: number; sentPerS: number; delivered: number; deliveredPerS: number };
  /** Messages sent, accepted (server result) and delivered in each second since the load began. */
  timeline: { sent: number[]; accepted: number[]; delivered: number[] };
  /** Send → matching deliver on the recipient, messages sent inside the window. */
  latencyMs: Percentiles;
  /** Send → the server's `result` (the message is durably stored), messages sent inside the window. */
  acceptLatencyMs: Percentiles;
  totals: {
    sent: number;
    accepted: number;
    acceptedAsDuplicate: number;
    received: number;
    /** Accepted by the server but not received after the drain. */
    lost: number;
    /** Sent but neither accepted nor refused by the end of the drain. */
    unanswered: number;
    sendErrors: Record<string, number>;
    otherErrors: Record<string, number>;
    errorSamples: string[];
    duplicateDeliveries: number;
    /** Deliveries received again after a --churn reconnect (pushed before, not acked): expected. */
    redeliveredAfterReconnect: number;
    /** Clients disconnected and reconnected on purpose during the load (--churn). */
    reconnects: number;
    unexpectedDeliveries: number;
    misrouted: number;
    unexpectedCloses: number;
    closeSamples: string[];
    drainS: number;
  };
  server: {
    cpuPct: number;
    rssPeakMB: number;
    rssEndMB: number;
    rssSetupPeakMB: number;
    /** RSS at the end of every 10 s since the load began (soak runs: is memory flat?). */
    rssEvery10sMB: number[];
    stderrLines: number;
    stderrHead: string[];
    exit: string;
    /** The window in seconds since the server was spawned: `profile-summary.ts --from A --to B`. */
    windowSinceSpawnS: [number, number];
  };
  generator: {
    cpuPct: number;
    loopDelayP99Ms: number;
    loopDelayMaxMs: number;
    /** Most messages due but not yet sent at one tick. */
    maxBacklog: number;
    /** Messages the schedule asked for that were never sent (generator too slow). */
    shortfall: number;
    /** Messages skipped because too many sends were unanswered (server too slow). */
    throttled: number;
    behind: boolean;
  };
  machine: {
    /**
     * CPU of all other processes over the window (kernel I/O threads included; processes that exited
     * during it are missed), one-core percent: the shared cores' interference with the measurement.
     */
    otherPct: number;
    /** The busiest of those other processes. */
    otherTop: string[];
    /** CPU of all processes in the second before the server was started, one-core percent. */
    busyBeforePct: number;
  };
};

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Nearest-rank percentiles of the first n values (sorts them in place). */
export function percentiles(values: Float64Array, n: number): Percentiles {
  if (n === 0)
    return { n: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = values.subarray(0, n).sort();
  const at = (q: number): number => round(sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[n - 1]!), mean: round(sum / n) };
}

/** The human-readable report. */
export function formatReport(r: LoadReport): string {
  const o = r.options;
  const l = r.latencyMs;
  const a = r.acceptLatencyMs;
  const t = r.totals;
  const errors = (e: Record<string, number>): string =>
    Object.keys(e).length === 0
      ? "0"
      : Object.entries(e)
          .map(([k, v]) => `${k}×${v}`)
          .join(", ");
  const lines = [
    `Sori load — ${o.clients} clients, ${o.rate} msg/s asked, ${o.duration} s (+${o.warmup} s warm-up), ` +
      `${o.size}-byte ciphertext, durability ${o.durability}, ${o.groupsPerClient} groups/client, ${o.client} client`,
    `host           ${r.host.cores} cores (${r.host.cpuModel}), ${r.host.memoryGiB} GiB, Node ${r.host.node}, server ${r.host.serverRevision}`,
    `setup          register ${r.setup.registerS} s, connect ${r.setup.connectS} s, ${r.setup.groups} groups ${r.setup.groupsS} s`,
    `sent           ${r.window.sentPerS} msg/s in the window (${r.window.sent}); ${t.sent} in all, ${t.accepted} accepted` +
      (t.acceptedAsDuplicate ? ` (${t.acceptedAsDuplicate} as duplicate)` : ""),
    `delivered      ${r.window.deliveredPerS} msg/s in the window (${r.window.delivered})`,
    `latency ms     p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  mean ${l.mean}  (send→deliver, n=${l.n})`,
    `accept ms      p50 ${a.p50}  p95 ${a.p95}  p99 ${a.p99}  max ${a.max}  (send→server result)`,
    `lost           ${t.lost} (accepted, not received after a ${t.drainS} s drain); unanswered sends ${t.unanswered}`,
    `send errors    ${errors(t.sendErrors)}; other error frames ${errors(t.otherErrors)}`,
    `anomalies      duplicate deliveries ${t.duplicateDeliveries}, unexpected ${t.unexpectedDeliveries}, ` +
      `misrouted ${t.misrouted}, unexpected closes ${t.unexpectedCloses}`,
    `churn          ${t.reconnects} reconnects; ${t.redeliveredAfterReconnect} deliveries pushed again after a reconnect (unacked before it)`,
    `server RSS     every 10 s (MB): ${r.server.rssEvery10sMB.join(" ")}`,
    `server         CPU ${r.server.cpuPct} % (100 = one core); RSS peak ${r.server.rssPeakMB} MB, end ${r.server.rssEndMB} MB ` +
      `(setup peak ${r.server.rssSetupPeakMB} MB); stderr lines ${r.server.stderrLines}; exit ${r.server.exit}`,
    `generator      CPU ${r.generator.cpuPct} %; event-loop delay p99 ${r.generator.loopDelayP99Ms} ms, max ${r.generator.loopDelayMaxMs} ms; ` +
      `${r.generator.behind ? "FELL BEHIND" : "kept up"} (max backlog ${r.generator.maxBacklog}, shortfall ${r.generator.shortfall}); ` +
      `throttled ${r.generator.throttled} (not sent: 5 s worth of sends unanswered)`,
    `other CPU      ${r.machine.otherPct} % (all other processes during the window: ${r.machine.otherTop.join(", ") || "none"}); ` +
      `${r.machine.busyBeforePct} % just before start`,
  ];
  const tl = r.timeline;
  lines.push(
    `per second     sent/accepted/delivered since load start: ${tl.sent
      .slice(0, 60)
      .map((s, i) => `${s}/${tl.accepted[i]}/${tl.delivered[i]}`)
      .join(" ")}`,
  );
  for (const s of [...t.errorSamples, ...t.closeSamples]) lines.push(`  sample: ${s}`);
  for (const s of r.server.stderrHead) lines.push(`  server stderr: ${s}`);
  return `${lines.join("\n")}\n`;
}
