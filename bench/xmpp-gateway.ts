// XMPP gateway benchmark: XMPP users send to Sori users through Prosody and one gateway process
// (`sori xmpp-gateway`, its own process, as deployed) at a fixed rate for D seconds; every message is
// counted where it arrives (a Sori device, after MLS decryption) and its latency taken from the send
// time in its body. Reports delivered/lost, latency percentiles, and CPU µs per message of the
// gateway and of the Sori server (the plain Sori path's own figure is in docs/BENCHMARKS.md).
//
//   node bench/xmpp-gateway.ts [--rate 1000] [--duration 60] [--senders 200] [--receivers 20] [--json]
//
// The load generator is a second XEP-0114 component on the same Prosody (`load.test`): it writes
// stanzas as text, which costs next to nothing, so the Sori devices receiving (in this process) and
// the gateway are what is measured. Every process shares the machine's cores.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { MemoryStorage, SoriClient } from "@sori/sdk";
import { FileStorage } from "@sori/sdk/node";
import { rawComponent, startProsody } from "../tests/xmpp-peers.ts";
import { CLOCK_TICKS, readCpuTicks, readRssKb } from "./proc-stats.ts";
import { startServerProcess } from "./server-process.ts";

const ROOT = resolve(import.meta.dirname, "..");
const PASSWORD = "bench xmpp password";
const DOMAIN = "sori.test";
const LOAD_DOMAIN = "load.test";

type Options = { rate: number; duration: number; senders: number; receivers: number; json: boolean };

function parseOptions(argv: string[]): Options {
  const o: Options = { rate: 1000, duration: 60, senders: 200, receivers: 20, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--json") {
      o.json = true;
      continue;
    }
    const key = flag.replace(/^--/, "") as keyof Omit<Options, "json">;
    const value = Number(argv[++i]);
    if (!(key in o) || !Number.isInteger(value) || value < 1) {
      process.stderr.write(
        "usage: node bench/xmpp-gateway.ts [--rate N] [--duration S] [--senders N] [--receivers N] [--json]\n",
      );
      process.exit(2);
    }
    o[key] = value;
  }
  return o;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "sori-bench-xmpp-"));
  const say = (line: string): void => {
    if (!o.json) process.stdout.write(`${line}\n`);
  };
  const server = await startServerProcess({
    root: ROOT,
    dataDir: join(dir, "server"),
    durability: "full",
    nodeArgs: [],
    serverArgs: [
      "--bridges",
      "xmpp=benchgw",
      "--messages-per-minute",
      "1000000",
      "--lookups-per-minute",
      "1000000",
      "--registrations-per-minute",
      "100000",
    ],
    readyTimeoutMs: 20_000,
    stopGraceMs: 5000,
  });
  // Ctrl-C or a SIGTERM ends the run early but still through the finally below, so that no Prosody,
  // gateway or server is left running; a second signal kills this process as usual.
  let interrupted: NodeJS.Signals | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      interrupted = signal;
      process.stderr.write(`${signal}: stopping the gateway, Prosody and the server\n`);
    });
  const stopIfInterrupted = (): void => {
    if (interrupted) throw new BenchInterrupted(interrupted);
  };
  const receivers: SoriClient[] = [];
  let prosody: Awaited<ReturnType<typeof startProsody>> | undefined;
  let gatewayProcess: ChildProcess | undefined;
  let load: Awaited<ReturnType<typeof rawComponent>> | undefined;
  try {
    prosody = await startProsody({
      host: "xmpp.test",
      componentDomain: DOMAIN,
      users: {},
      extraComponents: [LOAD_DOMAIN],
    });
    stopIfInterrupted();
    const profile = join(dir, "gateway-profile");
    const gatewayStorage = new FileStorage(profile);
    await SoriClient.register({
      serverUrl: server.url,
      username: "benchgw",
      password: PASSWORD,
      storage: gatewayStorage,
    });
    // The gateway process takes the profile's lock next.
    gatewayStorage.release();
    stopIfInterrupted();
    gatewayProcess = await startGateway(profile, prosody.componentPort, prosody.secret);
    const gatewayPid = gatewayProcess.pid!;
    for (let i = 0; i < o.receivers; i++) {
      const storage = new MemoryStorage();
      await SoriClient.register({ serverUrl: server.url, username: `recv${i}`, password: PASSWORD, storage });
      const c = await SoriClient.open(storage);
      await c.connect();
      receivers.push(c);
    }
    load = await rawComponent(prosody.componentPort, LOAD_DOMAIN, prosody.secret);
    const latencies: number[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    let warm = 0;
    for (const r of receivers)
      r.on("message", (m) => {
        const [kind, id, at] = m.text.split("|");
        if (kind === "warm") warm++;
        if (kind !== "b") return;
        if (seen.has(id!)) duplicates++;
        seen.add(id!);
        latencies.push(performance.now() - Number(at));
      });
    const send = (sender: number, kind: string, id: string): void => {
      const to = `recv${sender % o.receivers}@${DOMAIN}`;
      load!.write(
        `<message type="chat" from="u${sender}@${LOAD_DOMAIN}/bench" to="${to}" id="${kind}-${id}"><body>${kind}|${id}|${performance.now()}</body></message>`,
      );
    };
    // Warm-up: every sender's identity and chat exist before the clock starts.
    say(`warming up: ${o.senders} XMPP senders → ${o.receivers} Sori users`);
    const warmStart = performance.now();
    for (let s = 0; s < o.senders; s++) send(s, "warm", String(s));
    while (warm < o.senders && !interrupted && performance.now() - warmStart < 180_000)
      await new Promise((r) => setTimeout(r, 200));
    stopIfInterrupted();
    if (warm < o.senders)
      throw new Error(`warm-up: only ${warm} of ${o.senders} first messages arrived in 180 s`);
    say(
      `warm in ${((performance.now() - warmStart) / 1000).toFixed(1)} s; ${o.rate} msgs/s for ${o.duration} s`,
    );
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const t0 = {
      gw: readCpuTicks(gatewayPid) ?? 0,
      server: readCpuTicks(server.pid) ?? 0,
      at: performance.now(),
    };
    const total = o.rate * o.duration;
    const started = performance.now();
    let sent = 0;
    while (sent < total && !interrupted) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * o.rate));
      for (; sent < due; sent++) send(sent % o.senders, "b", String(sent));
      await new Promise((r) => setTimeout(r, 5));
    }
    const drainStart = performance.now();
    while (seen.size < total && !interrupted && performance.now() - drainStart < 30_000)
      await new Promise((r) => setTimeout(r, 100));
    stopIfInterrupted();
    const t1 = {
      gw: readCpuTicks(gatewayPid) ?? 0,
      server: readCpuTicks(server.pid) ?? 0,
      at: performance.now(),
    };
    lag.disable();
    const sorted = [...latencies].sort((a, b) => a - b);
    const usPer = (ticks: number): number => ((ticks / CLOCK_TICKS) * 1e6) / Math.max(1, seen.size);
    const report = {
      rate: o.rate,
      durationS: o.duration,
      senders: o.senders,
      receivers: o.receivers,
      sent: total,
      delivered: seen.size,
      lost: total - seen.size,
      duplicates,
      latencyMs: {
        p50: Math.round(percentile(sorted, 50)),
        p99: Math.round(percentile(sorted, 99)),
        max: Math.round(sorted.at(-1) ?? NaN),
      },
      cpuUsPerMessage: {
        gateway: Math.round(usPer(t1.gw - t0.gw)),
        server: Math.round(usPer(t1.server - t0.server)),
      },
      gatewayRssMb: Math.round((readRssKb(gatewayPid) ?? 0) / 1024),
      benchEventLoopDelayP99Ms: Math.round(lag.percentile(99) / 1e6),
    };
    if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      say(
        `delivered ${report.delivered}/${report.sent} (lost ${report.lost}, duplicates ${report.duplicates})`,
      );
      say(
        `latency p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
      );
      say(
        `CPU per message: gateway ${report.cpuUsPerMessage.gateway} µs, server ${report.cpuUsPerMessage.server} µs`,
      );
      say(
        `gateway RSS ${report.gatewayRssMb} MB; this process's event-loop delay p99 ${report.benchEventLoopDelayP99Ms} ms`,
      );
    }
  } finally {
    load?.close();
    for (const r of receivers) await r.close();
    if (gatewayProcess && gatewayProcess.exitCode === null) {
      const gone = new Promise((r) => gatewayProcess!.once("exit", r));
      gatewayProcess.kill("SIGINT");
      await gone;
    }
    await prosody?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The run was stopped by a signal; everything it started has been stopped. */
class BenchInterrupted extends Error {
  readonly code = "interrupted";
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}; no report`);
  }
}

/** `sori xmpp-gateway` as its own process (as deployed); resolves once it is connected. */
async function startGateway(profile: string, port: number, secret: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      // SORI_BENCH_GATEWAY_PROF=DIR: a CPU profile of the gateway (bench/profile-summary.ts reads it).
      ...(process.env.SORI_BENCH_GATEWAY_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.SORI_BENCH_GATEWAY_PROF}`]
        : []),
      join(ROOT, "apps/cli/src/main.ts"),
      "xmpp-gateway",
      "--profile",
      profile,
      "--domain",
      DOMAIN,
      "--component-port",
      String(port),
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, SORI_XMPP_SECRET: secret } },
  );
  let err = "";
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`the gateway did not come online: ${err.slice(-500)}`)),
      30_000,
    );
    child.stderr!.on("data", (chunk: Buffer) => {
      err = (err + String(chunk)).slice(-4000);
      if (err.includes('"xmpp.online"')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the gateway exited (${code}): ${err.slice(-500)}`));
    });
  });
  child.stderr!.removeAllListeners("data");
  // Warnings go on to this process's stderr (the gateway logs no content, ids or addresses).
  child.stderr!.on("data", (chunk: Buffer) => {
    if (process.env.SORI_BENCH_GATEWAY_LOG) process.stderr.write(chunk);
  });
  return child;
}

try {
  await main();
} catch (e) {
  if (!(e instanceof BenchInterrupted)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 130;
}
