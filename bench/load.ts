// Message-load benchmark: starts a fresh Sori server, registers and connects C clients in 1:1 groups,
// sends at an aggregate rate R for D seconds and reports throughput, send→receive latency, loss and the
// server's CPU and memory. See bench/README.md and docs/BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { type AuthResponse, PROTOCOL_VERSION, UNANSWERED_ACK_LEVEL } from "@sori/protocol";
import { type Frame, LoadClient, REQUEST_TIMEOUT_MS } from "./load-client.ts";
import { formatReport, type LoadReport, percentiles, round } from "./load-report.ts";
import { LOAD_USAGE, type LoadOptions, parseLoadOptions, UsageError } from "./options.ts";
import { CLOCK_TICKS, otherTicks, readAllCpuTicks, readCpuTicks, readRssKb } from "./proc-stats.ts";
import { seedAccounts } from "./seed.ts";
import { type ServerProcess, startScriptNodeFlags, startServerProcess } from "./server-process.ts";
import { openTransport } from "./transport.ts";

const ROOT = resolve(import.meta.dirname, "..");
const PASSWORD = "load-benchmark-password";
const REGISTER_LANES = 8;
const CONNECT_LANES = 32;
const TICK_MS = 1;
const RSS_SAMPLE_MS = 250;
const LOOP_DELAY_RESOLUTION_MS = 10;

// Per-message state bits (one byte per message index).
const SENT = 1;
const MEASURED = 2;
const ACCEPTED = 4;
const RECEIVED = 8;
const SEND_FAILED = 16;

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** Runs fn for 0..count-1 with at most `lanes` in flight; reports progress on stderr every 2 s. */
async function inLanes<T>(
  what: string,
  count: number,
  lanes: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => {
    log(`${what}: ${done}/${count} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }, 2000);
  try {
    const lane = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
        done++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
  } finally {
    clearInterval(progress);
  }
  return out;
}

async function register(url: string, i: number): Promise<AuthResponse> {
  const res = await fetch(`${url}/api/v1/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      username: `load${i}`,
      password: PASSWORD,
      device: { name: "load", signatureKey: randomBytes(32).toString("base64") },
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body: unknown = await res.json();
  if (!res.ok) throw new Error(`register load${i}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body as AuthResponse;
}

/** Waits until check() holds, polling every 20 ms; false if it still does not after timeoutMs. */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * The commit the server ran from, with "+dirty" if its sources differ from it: others edit the tree
 * concurrently, so a result must say which server it measured.
 */
function sourceRevision(): string {
  try {
    const git = (args: string[]): string =>
      execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", timeout: 5000 }).trim();
    const dirty = git(["status", "--porcelain", "--", "apps/server", "packages/protocol"]) !== "";
    return `${git(["rev-parse", "--short", "HEAD"])}${dirty ? "+dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

function hostInfo(serverRoot: string | undefined): LoadReport["host"] {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    // Another checkout (--server-root) may not be a git repository: its path names it.
    serverRevision: serverRoot ? `checkout ${serverRoot}` : sourceRevision(),
  };
}

/** CPU use of the whole machine over one second, one-core percent. */
async function machineBusyOverOneSecond(): Promise<number> {
  const a = readAllCpuTicks();
  await new Promise((r) => setTimeout(r, 1000));
  return (otherTicks(a, readAllCpuTicks(), [process.pid]).total / CLOCK_TICKS) * 100;
}

/**
 * The cores are shared with other work: with --wait-idle S, wait up to S seconds for a quiet second
 * (under 15 % of one core busy) before starting, so others' bursts do not land in the measurement.
 * Returns the busy share of the last second looked at.
 */
async function waitForIdle(maxS: number): Promise<number> {
  const end = performance.now() + maxS * 1000;
  let busy = await machineBusyOverOneSecond();
  while (busy >= 15 && performance.now() < end) {
    log(`machine busy (${busy.toFixed(0)} % of one core); waiting for it to settle`);
    busy = await machineBusyOverOneSecond();
  }
  return busy;
}

/** Runs one benchmark against an already started server; the caller stops the server. */
async function runLoad(
  options: LoadOptions,
  server: ServerProcess,
  busyBeforePct: number,
  seeded: AuthResponse[] | undefined,
): Promise<LoadReport> {
  const { clients: count, rate } = options;

  // --- server memory, sampled from start to end ---------------------------------------------------
  let rssSetupPeakKb = 0;
  let rssPeakKb = 0;
  let loadStarted = false;
  const rssEvery10sMB: number[] = [];
  const sampleRss = (): void => {
    const kb = readRssKb(server.pid) ?? 0;
    if (loadStarted) {
      const slot = Math.floor((performance.now() - loadStart) / 10_000);
      rssEvery10sMB[slot] = Math.round(kb / 102.4) / 10;
    }
    if (loadStarted) rssPeakKb = Math.max(rssPeakKb, kb);
    else rssSetupPeakKb = Math.max(rssSetupPeakKb, kb);
  };
  const rssTimer = setInterval(sampleRss, RSS_SAMPLE_MS);

  // --- per-message bookkeeping in typed arrays: no object per message, so GC stays out of the way ---
  const maxMessages = Math.ceil(rate * (options.warmup + options.duration)) + 16;
  const sendTime = new Float64Array(maxMessages);
  const state = new Uint8Array(maxMessages);
  const senderOf = new Int32Array(maxMessages);
  const latencies = new Float64Array(maxMessages);
  const acceptLatencies = new Float64Array(maxMessages);
  let nLatency = 0;
  let nAccept = 0;
  // Message ids are a random run prefix plus the message index: unique, valid base64url, and the
  // index comes back out of a delivery without a lookup table.
  const prefix = randomBytes(6).toString("base64url");
  const messageIdOf = (idx: number): string => prefix + String(idx).padStart(14, "0");
  const indexOf = (messageId: string): number => {
    if (!messageId.startsWith(prefix)) return -1;
    const idx = Number(messageId.slice(prefix.length));
    return Number.isInteger(idx) && idx >= 0 && idx < maxMessages ? idx : -1;
  };
  const payload = randomBytes(options.size).toString("base64");

  // Per-second counts from the start of the load to the end of the drain, to see overload build up.
  const seconds = Math.ceil(options.warmup + options.duration + options.drain) + 2;
  const sentPerSecond = new Int32Array(seconds);
  const acceptedPerSecond = new Int32Array(seconds);
  const deliveredPerSecond = new Int32Array(seconds);
  let loadStart = Number.POSITIVE_INFINITY;
  const second = (now: number): number =>
    Math.min(seconds - 1, Math.max(0, Math.floor((now - loadStart) / 1000)));
  let winStart = Number.POSITIVE_INFINITY;
  let winEnd = Number.POSITIVE_INFINITY;
  let sent = 0;
  let sentInWindow = 0;
  let outstanding = 0;
  let accepted = 0;
  let acceptedAsDuplicate = 0;
  let received = 0;
  let acceptedNotReceived = 0;
  let deliveredInWindow = 0;
  let duplicateDeliveries = 0;
  let redeliveredAfterReconnect = 0;
  let reconnects = 0;
  let unexpectedDeliveries = 0;
  let misrouted = 0;
  let unexpectedCloses = 0;
  let closing = false;
  const sendErrors: Record<string, number> = {};
  const otherErrors: Record<string, number> = {};
  const errorSamples: string[] = [];
  const closeSamples: string[] = [];
  const groupMembers = new Map<string, [number, number]>();
  let clients: LoadClient[] = [];
  const sample = (list: string[], text: string): void => {
    if (list.length < 8) list.push(text.slice(0, 400));
  };

  const onText = (client: LoadClient, text: string): void => {
    const now = performance.now();
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      otherErrors["unparsable-frame"] = (otherErrors["unparsable-frame"] ?? 0) + 1;
      sample(errorSamples, `unparsable frame: ${text}`);
      return;
    }
    switch (frame.type) {
      case "deliver": {
        client.noteDelivery(frame.seq ?? 0);
        if (frame.kind === "welcome") {
          client.welcomes++;
          return;
        }
        const idx = frame.kind === "message" ? indexOf(frame.messageId ?? "") : -1;
        if (idx < 0 || (state[idx]! & SENT) === 0) {
          unexpectedDeliveries++;
          sample(errorSamples, `unexpected delivery to client ${client.index}: ${text.slice(0, 300)}`);
          return;
        }
        const flags = state[idx]!;
        if (flags & RECEIVED) {
          if (client.reconnects > 0) redeliveredAfterReconnect++;
          else duplicateDeliveries++;
          return;
        }
        state[idx] = flags | RECEIVED;
        received++;
        if (flags & ACCEPTED) acceptedNotReceived--;
        if (flags & MEASURED) latencies[nLatency++] = now - sendTime[idx]!;
        if (now >= winStart && now < winEnd) deliveredInWindow++;
        if (now >= loadStart) deliveredPerSecond[second(now)]!++;
        // The recipient must be the sender's partner in that group, and `from` must name the sender.
        const members = groupMembers.get(frame.groupId ?? "");
        const from = senderOf[idx]!;
        if (
          !members ||
          from === client.index ||
          (members[0] !== client.index && members[1] !== client.index) ||
          frame.from?.deviceId !== clients[from]?.deviceId
        ) {
          misrouted++;
          sample(errorSamples, `misrouted delivery to client ${client.index}: ${text.slice(0, 300)}`);
        }
        return;
      }
      case "result": {
        const re = frame.re ?? -1;
        const idx = client.sends.get(re);
        if (idx !== undefined) {
          client.sends.delete(re);
          outstanding--;
          accepted++;
          if (frame.result?.duplicate) acceptedAsDuplicate++;
          const flags = state[idx]!;
          state[idx] = flags | ACCEPTED;
          if ((flags & RECEIVED) === 0) acceptedNotReceived++;
          if (flags & MEASURED) acceptLatencies[nAccept++] = now - sendTime[idx]!;
          acceptedPerSecond[second(now)]!++;
          return;
        }
        const pending = client.requests.get(re);
        if (pending) {
          client.requests.delete(re);
          pending.resolve(frame.result);
        }
        // Anything else is an ack's result.
        return;
      }
      case "error": {
        const re = frame.re ?? -1;
        const code = frame.code ?? "?";
        const idx = client.sends.get(re);
        if (idx !== undefined) {
          client.sends.delete(re);
          outstanding--;
          state[idx] = state[idx]! | SEND_FAILED;
          sendErrors[code] = (sendErrors[code] ?? 0) + 1;
          sample(errorSamples, `send error: ${text}`);
          return;
        }
        const pending = client.requests.get(re);
        if (pending) {
          client.requests.delete(re);
          pending.reject(new Error(`server error ${code}: ${frame.message ?? ""} (${text.slice(0, 300)})`));
          return;
        }
        otherErrors[code] = (otherErrors[code] ?? 0) + 1;
        sample(errorSamples, `error frame: ${text}`);
        return;
      }
      default:
        // "synced" and "kp.low" need no action from a load client.
        return;
    }
  };

  // --- setup: register, connect, create 1:1 groups -----------------------------------------------
  const url = server.url;
  const wsUrl = `${url.replace(/^http/, "ws")}/api/v1/ws`;
  let t = performance.now();
  if (!seeded) log(`registering ${count} users (scrypt on the server, ${REGISTER_LANES} at a time)`);
  const registered = seeded ?? (await inLanes("registered", count, REGISTER_LANES, (i) => register(url, i)));
  const registerS = (performance.now() - t) / 1000;
  clients = registered.map((r, i) => new LoadClient(i, r));

  t = performance.now();
  log(`connecting ${count} WebSockets (${options.client})`);
  const connectClient = async (i: number): Promise<void> => {
    const client = clients[i]!;
    const transport = await openTransport(
      options.client,
      wsUrl,
      {
        onText: (text) => onText(client, text),
        onClose: (code, reason) => {
          // A client away for --churn is reconnected (with retries) by churnOne.
          if (closing || client.churning) return;
          unexpectedCloses++;
          sample(closeSamples, `client ${i} closed: ${code} ${reason}`);
        },
      },
      REQUEST_TIMEOUT_MS,
    );
    client.transport = transport;
    const auth = (await client.request({ type: "auth", v: PROTOCOL_VERSION, token: client.token })) as {
      featureLevel?: number;
    };
    // Like the SDK: acks go unanswered where the server allows it (feature level 3).
    client.unansweredAcks = (auth.featureLevel ?? 0) >= UNANSWERED_ACK_LEVEL;
  };
  await inLanes("connected", count, CONNECT_LANES, connectClient);

  /** --churn: drops a random idle client's connection and reconnects it 100 ms later. */
  const churnOne = (): void => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const client = clients[Math.floor(Math.random() * count)]!;
      // Only clients with no send awaiting its result: a dropped answer would look like a lost send.
      if (client.churning || client.sends.size > 0 || client.requests.size > 0 || !client.transport) continue;
      client.churning = true;
      // Counted from the drop: what was pushed and not acked before it may come again right after.
      client.reconnects++;
      clearTimeout(client.ackTimer);
      client.ackTimer = undefined;
      client.unacked = 0;
      const old = client.transport;
      client.transport = undefined;
      old.close();
      // Like the SDK: retry (at most 5 times, 1 s apart) if the server is too busy to let it back in.
      const reconnect = (attempt: number): void => {
        connectClient(client.index).then(
          () => {
            reconnects++;
            client.churning = false;
          },
          (error: unknown) => {
            client.transport?.close();
            client.transport = undefined;
            if (attempt < 5 && !closing) {
              setTimeout(() => reconnect(attempt + 1), 1000);
              return;
            }
            unexpectedCloses++;
            sample(closeSamples, `client ${client.index} could not reconnect: ${String(error)}`);
          },
        );
      };
      setTimeout(() => reconnect(1), 100);
      return;
    }
  };
  const connectS = (performance.now() - t) / 1000;

  t = performance.now();
  const totalGroups = count * options.groupsPerClient;
  log(`creating ${totalGroups} 1:1 groups`);
  await inLanes("group owners done", count, CONNECT_LANES, async (i) => {
    const creates: Promise<unknown>[] = [];
    for (let g = 0; g < options.groupsPerClient; g++) {
      let partner = Math.floor(Math.random() * (count - 1));
      if (partner >= i) partner++;
      const groupId = randomBytes(16).toString("base64url");
      creates.push(
        clients[i]!.request({
          type: "group.create",
          groupId,
          epoch: 1,
          members: [clients[partner]!.deviceId],
          welcome: randomBytes(32).toString("base64"),
        }).then(() => {
          groupMembers.set(groupId, [i, partner]);
          clients[i]!.groups.push(groupId);
          clients[partner]!.groups.push(groupId);
        }),
      );
    }
    await Promise.all(creates);
  });
  const welcomed = await until(() => clients.reduce((n, c) => n + c.welcomes, 0) >= totalGroups, 30_000);
  if (!welcomed) {
    const got = clients.reduce((n, c) => n + c.welcomes, 0);
    throw new Error(`only ${got} of ${totalGroups} welcomes arrived within 30 s of creating the groups`);
  }
  const groupsS = (performance.now() - t) / 1000;
  log(
    `setup done: register ${registerS.toFixed(1)} s, connect ${connectS.toFixed(1)} s, groups ${groupsS.toFixed(1)} s`,
  );

  // --- load: warm-up, then the measured window ------------------------------------------------------
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  // At most 100 ms worth of messages in one tick, so a stalled generator catches up gradually
  // instead of sending one huge burst; the backlog is reported.
  const maxBurst = Math.max(10, Math.ceil(rate * 0.1));
  // Open loop, but bounded: if the server leaves 5 s worth of sends unanswered, stop adding more.
  const maxOutstanding = Math.max(1000, Math.ceil(rate * 5));
  let scheduled = 0;
  let churned = 0;
  let maxBacklog = 0;
  let throttled = 0;
  let serverTicks0 = 0;
  let serverTicks1 = 0;
  let gen0 = process.cpuUsage();
  let gen1 = gen0;
  let machine0 = new Map<number, number>();
  let machine1 = machine0;
  let wall0 = 0;
  let wall1 = 0;

  const sendOne = (): void => {
    let client = clients[Math.floor(Math.random() * count)]!;
    // A client away for --churn cannot send; another one does.
    while (client.churning) client = clients[Math.floor(Math.random() * count)]!;
    const groupId = client.groups[Math.floor(Math.random() * client.groups.length)]!;
    const idx = sent++;
    const id = client.nextId++;
    const text = `{"type":"send","id":${id},"groupId":"${groupId}","epoch":1,"messageId":"${messageIdOf(idx)}","data":"${payload}"}`;
    client.sends.set(id, idx);
    outstanding++;
    senderOf[idx] = client.index;
    const now = performance.now();
    sendTime[idx] = now;
    sentPerSecond[second(now)]!++;
    if (now >= winStart) {
      state[idx] = SENT | MEASURED;
      sentInWindow++;
    } else state[idx] = SENT;
    client.transport!.send(text);
  };

  loadStarted = true;
  loadStart = performance.now();
  winStart = loadStart + options.warmup * 1000;
  winEnd = winStart + options.duration * 1000;
  log(`sending ${rate} msg/s: ${options.warmup} s warm-up, then ${options.duration} s measured`);
  let windowOpen = false;
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (!windowOpen && now >= winStart) {
        windowOpen = true;
        wall0 = now;
        serverTicks0 = readCpuTicks(server.pid) ?? 0;
        gen0 = process.cpuUsage();
        machine0 = readAllCpuTicks();
        loopDelay.enable();
      }
      const target = Math.min(maxMessages, Math.floor(((Math.min(now, winEnd) - loadStart) * rate) / 1000));
      let due = target - scheduled;
      if (due > maxBacklog) maxBacklog = due;
      if (due > maxBurst) due = maxBurst;
      if (options.churn > 0) {
        const churnDue = Math.floor(((Math.min(now, winEnd) - loadStart) * options.churn) / 1000) - churned;
        for (let k = 0; k < churnDue; k++) churnOne();
        churned += Math.max(0, churnDue);
      }
      for (let k = 0; k < due; k++) {
        scheduled++;
        if (outstanding >= maxOutstanding) throttled++;
        else sendOne();
      }
      if (now >= winEnd) {
        wall1 = now;
        serverTicks1 = readCpuTicks(server.pid) ?? serverTicks0;
        gen1 = process.cpuUsage();
        machine1 = readAllCpuTicks();
        loopDelay.disable();
        clearInterval(timer);
        done();
      }
    }, TICK_MS);
  });
  const expected = Math.min(maxMessages, Math.floor(((winEnd - loadStart) * rate) / 1000));

  // --- drain: wait for every accepted message to arrive ---------------------------------------------
  const drainStart = performance.now();
  for (const c of clients) c.flushAck();
  await until(() => outstanding === 0 && acceptedNotReceived === 0, options.drain * 1000);
  const drainS = (performance.now() - drainStart) / 1000;
  for (const c of clients) c.flushAck();
  sampleRss();
  clearInterval(rssTimer);
  const rssEndKb = readRssKb(server.pid) ?? 0;
  closing = true;
  for (const c of clients) {
    clearTimeout(c.ackTimer);
    c.transport?.close();
  }

  const windowS = (wall1 - wall0) / 1000;
  const lastSecond = second(performance.now());
  const genUs = gen1.user - gen0.user + (gen1.system - gen0.system);
  const loopP99 = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0;
  const loopMax = loopDelay.count > 0 ? loopDelay.max / 1e6 : 0;
  const shortfall = expected - scheduled;
  const serverPct = ((serverTicks1 - serverTicks0) / CLOCK_TICKS / windowS) * 100;
  const generatorPct = (genUs / 1e6 / windowS) * 100;
  const others = otherTicks(machine0, machine1, [server.pid, process.pid]);
  const toPct = (ticks: number): number => round((ticks / CLOCK_TICKS / windowS) * 100, 1);
  return {
    date: new Date().toISOString(),
    options: {
      clients: options.clients,
      rate: options.rate,
      duration: options.duration,
      warmup: options.warmup,
      size: options.size,
      durability: options.durability,
      groupsPerClient: options.groupsPerClient,
      drain: options.drain,
      client: options.client,
      serverCpuProf: options.serverCpuProf,
      setup: options.setup,
      serverArgs: options.serverArgs,
      serverNodeArgs:
        options.serverNodeArgs.length > 0
          ? options.serverNodeArgs
          : startScriptNodeFlags(options.serverRoot ?? ROOT),
      serverRoot: options.serverRoot,
      churn: options.churn,
    },
    host: hostInfo(options.serverRoot),
    setup: {
      registerS: round(registerS),
      connectS: round(connectS),
      groupsS: round(groupsS),
      groups: totalGroups,
    },
    window: {
      seconds: round(windowS, 3),
      sent: sentInWindow,
      sentPerS: round(sentInWindow / windowS, 1),
      delivered: deliveredInWindow,
      deliveredPerS: round(deliveredInWindow / windowS, 1),
    },
    timeline: {
      sent: Array.from(sentPerSecond.subarray(0, lastSecond + 1)),
      accepted: Array.from(acceptedPerSecond.subarray(0, lastSecond + 1)),
      delivered: Array.from(deliveredPerSecond.subarray(0, lastSecond + 1)),
    },
    latencyMs: percentiles(latencies, nLatency),
    acceptLatencyMs: percentiles(acceptLatencies, nAccept),
    totals: {
      sent,
      accepted,
      acceptedAsDuplicate,
      received,
      lost: acceptedNotReceived,
      unanswered: outstanding,
      sendErrors,
      otherErrors,
      errorSamples,
      duplicateDeliveries,
      redeliveredAfterReconnect,
      reconnects,
      unexpectedDeliveries,
      misrouted,
      unexpectedCloses,
      closeSamples,
      drainS: round(drainS),
    },
    server: {
      cpuPct: round(serverPct, 1),
      rssPeakMB: round(rssPeakKb / 1024, 1),
      rssEndMB: round(rssEndKb / 1024, 1),
      rssSetupPeakMB: round(rssSetupPeakKb / 1024, 1),
      rssEvery10sMB,
      stderrLines: server.stderrCount(),
      stderrHead: server.stderrHead.slice(0, 20),
      exit: "",
      windowSinceSpawnS: [round((wall0 - server.spawnedAt) / 1000), round((wall1 - server.spawnedAt) / 1000)],
    },
    generator: {
      cpuPct: round(generatorPct, 1),
      // The histogram counts whole timer intervals, so the resolution itself is not delay.
      loopDelayP99Ms: round(Math.max(0, loopP99 - LOOP_DELAY_RESOLUTION_MS)),
      loopDelayMaxMs: round(Math.max(0, loopMax - LOOP_DELAY_RESOLUTION_MS)),
      maxBacklog,
      shortfall,
      throttled,
      // Behind: more than 50 ms of messages were ever overdue, or the schedule was not met by 1 %.
      // Throttling is the server's doing (unanswered sends), reported apart.
      behind: maxBacklog > rate * 0.05 || shortfall > expected * 0.01,
    },
    machine: {
      otherPct: toPct(others.total),
      otherTop: others.top.map((o) => `${o.name} (${o.pid}) ${toPct(o.ticks)} %`),
      busyBeforePct: round(busyBeforePct, 1),
    },
  };
}

async function main(): Promise<number> {
  let options: LoadOptions;
  try {
    options = parseLoadOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`load: ${error.message}\n${LOAD_USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(LOAD_USAGE);
    return 0;
  }

  const dataDir = mkdtempSync(join(tmpdir(), "sori-bench-"));
  let server: ServerProcess | undefined;
  const cleanUp = (): void => {
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  // Hard deadline: setup (scrypt per user dominates), load, drain, and a margin. Nothing may hang.
  const deadlineS =
    options.waitIdle + 60 + options.clients * 0.25 + options.warmup + options.duration + options.drain + 30;
  const deadline = setTimeout(() => {
    log(`hard deadline of ${Math.round(deadlineS)} s reached; killing the server and exiting`);
    if (server) process.kill(server.pid, "SIGKILL");
    cleanUp();
    process.exit(3);
  }, deadlineS * 1000);
  deadline.unref();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the server`);
      if (server) process.kill(server.pid, "SIGKILL");
      cleanUp();
      process.exit(130);
    });
  }

  const busyBeforePct = await waitForIdle(options.waitIdle);
  const nodeArgs = [
    ...(options.serverNodeArgs.length > 0
      ? options.serverNodeArgs
      : startScriptNodeFlags(options.serverRoot ?? ROOT)),
    ...(options.serverCpuProf ? ["--cpu-prof", "--cpu-prof-dir", resolve(options.serverCpuProf)] : []),
  ];
  let report: LoadReport | undefined;
  let failure: unknown;
  try {
    const seeded =
      options.setup === "seed"
        ? await seedAccounts(dataDir, options.clients, "load", PASSWORD, options.serverRoot ?? ROOT)
        : undefined;
    server = await startServerProcess({
      root: options.serverRoot ?? ROOT,
      dataDir,
      durability: options.durability,
      nodeArgs,
      serverArgs: options.serverArgs,
      readyTimeoutMs: 20_000,
      // The CPU profile is written as the server exits, which a busy server may take a while to do.
      stopGraceMs: options.serverCpuProf ? 30_000 : 5000,
    });
    log(`server pid ${server.pid} at ${server.url}, data ${dataDir}`);
    report = await runLoad(options, server, busyBeforePct, seeded);
  } catch (error) {
    failure = error;
  }
  const exit = server ? await server.stop() : "not started";
  if (report) {
    report.server.exit = exit;
    report.server.stderrLines = server?.stderrCount() ?? 0;
    report.server.stderrHead = server?.stderrHead.slice(0, 20) ?? [];
  }
  if (options.keepData) log(`data kept in ${dataDir}`);
  cleanUp();
  clearTimeout(deadline);
  if (failure !== undefined || !report) {
    log(`failed: ${failure instanceof Error ? failure.message : String(failure)}`);
    for (const line of server?.stderrHead ?? []) log(`server stderr: ${line}`);
    return 1;
  }
  const json = JSON.stringify(report, null, 2);
  if (options.out) writeFileSync(options.out, `${json}\n`);
  process.stdout.write(options.json ? `${json}\n` : formatReport(report));
  return 0;
}

process.exit(await main());
