// Call setup benchmark: how long from "call" until the call is connected and until the caller hears
// the first audio packet, median over N calls between two werift peers (the CLI's call stack) on
// 127.0.0.1. The server runs as its own process, as deployed. Modes are pluggable: a browser↔browser
// mode (Chromium pages through playwright) implements the same `CallBenchMode`.
//
//   node bench/calls.ts [--calls 20] [--mode werift] [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryStorage, SoriClient } from "@sori/sdk";
import { type PacketCounters, weriftPlatform } from "../apps/cli/src/calls/werift-platform.ts";
import { startServerProcess } from "./server-process.ts";

/** One call's timings, in ms from the caller's `calls.start()`. */
export type CallSample = { connectedMs: number; firstAudioMs: number };

/** A pair of endpoints that can place one call after another. */
export type CallBenchPair = { call(): Promise<CallSample>; close(): Promise<void> };

/** How endpoints are made: werift in this process, or (to add) Chromium pages. */
export type CallBenchMode = { name: string; setup(serverUrl: string): Promise<CallBenchPair> };

const CALL_TIMEOUT_MS = 15_000;
const PASSWORD = "bench calls password";

/** Two SDK clients in this process, each with the CLI's werift platform (tone as the microphone). */
export const weriftMode: CallBenchMode = {
  name: "werift",
  async setup(serverUrl) {
    const suffix = Math.random().toString(36).slice(2, 8);
    const open = async (name: string): Promise<{ client: SoriClient; counters: PacketCounters }> => {
      const storage = new MemoryStorage();
      await SoriClient.register({ serverUrl, username: `${name}_${suffix}`, password: PASSWORD, storage });
      const client = await SoriClient.open(storage);
      const { platform, counters } = weriftPlatform({ loopback: true });
      client.calls.configure({ platform });
      await client.connect();
      return { client, counters };
    };
    const caller = await open("caller");
    const callee = await open("callee");
    callee.client.calls.on("incoming", (call) => void call.accept());
    // The chat exists and the callee has joined it before the first call.
    const m = await caller.client.sendText(callee.client.username, "hi");
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    while (!(await callee.client.findChat(m.chat)) && Date.now() < deadline) await sleep(20);
    return {
      async call() {
        caller.counters.firstReceivedAt = null;
        const t0 = Date.now();
        const call = await caller.client.calls.start(callee.client.username);
        let connectedAt: number | undefined;
        const limit = Date.now() + CALL_TIMEOUT_MS;
        while (
          (connectedAt === undefined || caller.counters.firstReceivedAt === null) &&
          Date.now() < limit
        ) {
          if (call.state === "connected") connectedAt ??= Date.now();
          if (call.state === "ended") break;
          await sleep(1);
        }
        const firstAudio = caller.counters.firstReceivedAt;
        call.hangup();
        await sleep(200); // let both sides tear down before the next call
        if (connectedAt === undefined || firstAudio === null)
          throw new Error(`call did not connect (${call.state}, ${call.endReason ?? "-"})`);
        return { connectedMs: connectedAt - t0, firstAudioMs: firstAudio - t0 };
      },
      async close() {
        await caller.client.close();
        await callee.client.close();
      },
    };
  },
};

const MODES: Record<string, CallBenchMode> = { werift: weriftMode };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
  };
  const calls = Number(arg("calls", "20"));
  const mode = MODES[arg("mode", "werift")];
  if (!Number.isInteger(calls) || calls < 1 || calls > 1000 || !mode) {
    process.stderr.write(
      `usage: node bench/calls.ts [--calls 1..1000] [--mode ${Object.keys(MODES).join("|")}] [--json]\n`,
    );
    process.exit(2);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "sori-bench-calls-"));
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
    await pair.call(); // warm-up: first-call costs (JIT, TURN credentials request) are not measured
    for (let i = 0; i < calls; i++) samples.push(await pair.call());
  } finally {
    await pair?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const connected = samples.map((s) => s.connectedMs);
  const audio = samples.map((s) => s.firstAudioMs);
  const report = {
    mode: mode.name,
    calls,
    connectedMs: { median: median(connected), p90: pct(connected, 90), min: Math.min(...connected) },
    firstAudioMs: { median: median(audio), p90: pct(audio, 90), min: Math.min(...audio) },
  };
  if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      `calls: ${calls} × ${mode.name}↔${mode.name} on 127.0.0.1 (server in its own process), after one warm-up call\n` +
        `  call → connected:           median ${report.connectedMs.median} ms, p90 ${report.connectedMs.p90} ms, min ${report.connectedMs.min} ms\n` +
        `  call → first audio packet:  median ${report.firstAudioMs.median} ms, p90 ${report.firstAudioMs.p90} ms, min ${report.firstAudioMs.min} ms\n`,
    );
  }
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
