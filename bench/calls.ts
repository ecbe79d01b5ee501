// Call setup benchmark: how long from "call" until the call is connected and until the caller hears
// the first audio packet, median over N calls between two werift peers (the CLI's call stack) on
// 127.0.0.1. The server runs as its own process, as deployed. Modes are pluggable: a browser↔browser
// mode (Chromium pages through playwright) implements the same `CallBenchMode`.
//
//   node bench/calls.ts [--calls 20] [--mode werift] [--json]
import { fileURLToPath } from "node:url";
import { MemoryStorage, SoriClient } from "@sori/sdk";
import { type PacketCounters, weriftPlatform } from "@sori/werift-calls";
import { type CallBenchMode, formatCallReport, runCallBench, summarizeCalls } from "./call-bench-run.ts";

export type { CallBenchMode, CallBenchPair, CallSample } from "./call-bench-run.ts";

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
  const report = summarizeCalls(mode.name, calls, await runCallBench(mode, calls, "sori-bench-calls-"));
  if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      `calls: ${calls} × ${mode.name}↔${mode.name} on 127.0.0.1 (server in its own process), after one warm-up call\n` +
        formatCallReport(report),
    );
  }
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
