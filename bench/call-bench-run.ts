// The run shared by the call-setup benchmarks (bench/calls.ts, bench/calls-browser.ts): a fresh
// server in its own process, one warm-up call, then N measured calls, summarised as median/p90/min.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServerProcess } from "./server-process.ts";

/** One call's timings, in ms from the caller's "call". */
export type CallSample = { connectedMs: number; firstAudioMs: number };

/** A pair of endpoints that can place one call after another. */
export type CallBenchPair = { call(): Promise<CallSample>; close(): Promise<void> };

/** How endpoints are made: werift in this process, or Chromium pages. */
export type CallBenchMode = { name: string; setup(serverUrl: string): Promise<CallBenchPair> };

type Spread = { median: number; p90: number; min: number };
export type CallBenchReport = { mode: string; calls: number; connectedMs: Spread; firstAudioMs: Spread };

/**
 * Starts a server process on a fresh data dir (named `dataDirPrefix`…), sets up `mode`'s pair, places
 * one warm-up call (first-call costs such as JIT, lazy screens and the TURN credentials request are not
 * measured), then `calls` measured calls; stops everything and deletes the data dir either way.
 */
export async function runCallBench(
  mode: CallBenchMode,
  calls: number,
  dataDirPrefix: string,
): Promise<CallSample[]> {
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  const server = await startServerProcess({
    root: fileURLToPath(new URL("..", import.meta.url)),
    dataDir,
    durability: "normal",
    nodeArgs: [],
    serverArgs: [],
    readyTimeoutMs: 15_000,
    stopGraceMs: 5_000,
  });
  const samples: CallSample[] = [];
  let pair: CallBenchPair | undefined;
  try {
    pair = await mode.setup(server.url);
    await pair.call(); // warm-up
    for (let i = 0; i < calls; i++) samples.push(await pair.call());
  } finally {
    await pair?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return samples;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Median, p90 and minimum of both timings. */
export function summarizeCalls(modeName: string, calls: number, samples: CallSample[]): CallBenchReport {
  const spread = (xs: number[]): Spread => ({ median: median(xs), p90: pct(xs, 90), min: Math.min(...xs) });
  return {
    mode: modeName,
    calls,
    connectedMs: spread(samples.map((s) => s.connectedMs)),
    firstAudioMs: spread(samples.map((s) => s.firstAudioMs)),
  };
}

/** The two human-readable result lines after a benchmark's heading line. */
export function formatCallReport(report: CallBenchReport): string {
  return (
    `  call → connected:           median ${report.connectedMs.median} ms, p90 ${report.connectedMs.p90} ms, min ${report.connectedMs.min} ms\n` +
    `  call → first audio packet:  median ${report.firstAudioMs.median} ms, p90 ${report.firstAudioMs.p90} ms, min ${report.firstAudioMs.min} ms\n`
  );
}
