// SIP gateway benchmark: N phones call N Sori users at once through one gateway process (`sori
// sip-gateway`, its own process, as deployed), G.711 (PCMU) 20 ms frames both ways, for D seconds.
// Reports the gateway's CPU and RSS (total and per call), audio gaps over 60 ms on both receiving
// sides, INVITE → 180 and 200 → first audio at the phone. Server, gateway, phones and Sori users all
// run on this machine: the phones and users share this process, so watch its event-loop delay.
//
//   node bench/sip-calls.ts [--calls 20] [--duration 20] [--warm] [--json]
//
// --warm first makes and hangs up one call per user, so the measured calls go to people the gateway
// has called before (their chat exists).
import { spawn, spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { MemoryStorage, SoriClient } from "@sori/sdk";
import { weriftPlatform } from "@sori/werift-calls";
import { CLOCK_TICKS, readCpuTicks, readRssKb } from "./proc-stats.ts";
import { startServerProcess } from "./server-process.ts";

const ROOT = resolve(import.meta.dirname, "..");
const PASSWORD = "bench sip password";
const FRAME_MS = 20;
const GAP_MS = 60;
/** Gaps are counted from this long after a call's first packet (the path settles first). */
const SETTLE_MS = 1000;

type Leg = { last: number; gaps: number; packets: number; first: number | null };
const leg = (): Leg => ({ last: 0, gaps: 0, packets: 0, first: null });
function arrived(l: Leg, now: number): void {
  if (l.first === null) l.first = now;
  else if (now - l.first > SETTLE_MS && now - l.last > GAP_MS) l.gaps++;
  l.last = now;
  l.packets++;
}

/** One fake phone: a SIP socket for its INVITE and BYE, an RTP socket sending PCMU silence-free noise. */
type Phone = {
  sip: Socket;
  rtp: Socket;
  callId: string;
  tag: string;
  toTag: string;
  remoteRtp: { address: string; port: number } | undefined;
  seq: number;
  ts: number;
  sentInviteAt: number;
  ringingAt: number | null;
  answeredAt: number | null;
  heard: Leg;
  /** Hangs up (BYE) once answered. */
  bye: () => void;
};

async function bound(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  return s;
}

function sipHeader(text: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, "mi").exec(text)?.[1]?.trim() ?? "";
}

async function dial(gatewayPort: number, user: string, i: number): Promise<Phone> {
  const p: Phone = {
    sip: await bound(),
    rtp: await bound(),
    callId: `bench-${i}-${Date.now()}`,
    tag: `p${i}`,
    toTag: "",
    remoteRtp: undefined,
    seq: 0,
    ts: 0,
    sentInviteAt: 0,
    ringingAt: null,
    answeredAt: null,
    heard: leg(),
    bye: () => undefined,
  };
  const sipPort = p.sip.address().port;
  const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${p.rtp.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
  const common = (method: string, seq: number, branch: string): string =>
    `Via: SIP/2.0/UDP 127.0.0.1:${sipPort};branch=z9hG4bK${branch}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:phone${i}@127.0.0.1>;tag=${p.tag}\r\nTo: <sip:${user}@127.0.0.1>${p.toTag ? `;tag=${p.toTag}` : ""}\r\n` +
    `Call-ID: ${p.callId}\r\nCSeq: ${seq} ${method}\r\n`;
  p.sip.on("message", (d) => {
    const text = d.toString();
    const status = Number(/^SIP\/2.0 (\d{3})/.exec(text)?.[1]);
    if (!/CSeq: 1 INVITE/.test(text)) return;
    if (status === 180) p.ringingAt ??= performance.now();
    if (status === 200) {
      p.answeredAt ??= performance.now();
      p.toTag = /;tag=([^;\s]+)/.exec(sipHeader(text, "To"))?.[1] ?? "";
      const port = Number(/m=audio (\d+)/.exec(text)?.[1]);
      p.remoteRtp = { address: "127.0.0.1", port };
      p.sip.send(
        `ACK sip:${user}@127.0.0.1 SIP/2.0\r\n${common("ACK", 1, `a${i}`)}Content-Length: 0\r\n\r\n`,
        gatewayPort,
        "127.0.0.1",
      );
    }
  });
  p.rtp.on("message", () => arrived(p.heard, performance.now()));
  p.bye = () =>
    p.sip.send(
      `BYE sip:${user}@127.0.0.1 SIP/2.0\r\n${common("BYE", 2, `b${i}`)}Content-Length: 0\r\n\r\n`,
      gatewayPort,
      "127.0.0.1",
    );
  p.sentInviteAt = performance.now();
  p.sip.send(
    `INVITE sip:${user}@127.0.0.1 SIP/2.0\r\n${common("INVITE", 1, `i${i}`)}Contact: <sip:phone${i}@127.0.0.1:${sipPort}>\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
    gatewayPort,
    "127.0.0.1",
  );
  return p;
}

function sendFrame(p: Phone): void {
  if (!p.remoteRtp) return;
  const packet = Buffer.alloc(12 + 160);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt16BE((p.seq = (p.seq + 1) & 0xffff), 2);
  packet.writeUInt32BE((p.ts = (p.ts + 160) >>> 0), 4);
  packet.writeUInt32BE(0x50000000 + p.seq, 8);
  for (let i = 12; i < packet.length; i++) packet[i] = (i * 37) & 0xff;
  p.rtp.send(packet, p.remoteRtp.port, p.remoteRtp.address);
}

const pct = (values: number[], q: number): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!) : Number.NaN;
};

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string): number => {
    const i = argv.indexOf(`--${name}`);
    return Number(i >= 0 ? argv[i + 1] : fallback);
  };
  const calls = arg("calls", "20");
  const durationS = arg("duration", "20");
  const dir = mkdtempSync(join(tmpdir(), "sori-bench-sip-"));
  const server = await startServerProcess({
    root: ROOT,
    dataDir: join(dir, "data"),
    durability: "normal",
    nodeArgs: [],
    serverArgs: ["--registrations-per-minute", String(calls * 2 + 10), "--log-level", "warn"],
    readyTimeoutMs: 30_000,
    stopGraceMs: 5000,
  });
  const node = join(ROOT, "node_modules", ".bin", "node");
  const sori = join(ROOT, "apps", "cli", "bin", "sori.js");
  const env = { ...process.env, SORI_PASSWORD: PASSWORD };
  const registered = spawnSync(
    node,
    [sori, "register", "benchgw", "--server", server.url, "--no-passphrase", "--profile", join(dir, "gw")],
    { env },
  );
  if (registered.status !== 0) throw new Error(`register: ${registered.stderr}`);
  const gw = spawn(
    node,
    [
      sori,
      "sip-gateway",
      "--listen",
      "udp:127.0.0.1:0",
      "--loopback",
      "--rtp-ports",
      "47000-48998",
      "--invites-per-second",
      String(Math.max(2, calls)),
      "--profile",
      join(dir, "gw"),
    ],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  const gatewayPort = await new Promise<number>((ok, fail) => {
    let err = "";
    gw.stderr.on("data", (d: Buffer) => {
      err += String(d);
      const m = /listening on udp:127\.0\.0\.1:(\d+)/.exec(err);
      if (m) ok(Number(m[1]));
    });
    gw.once("exit", () => fail(new Error(`gateway exited: ${err}`)));
  });
  const users: SoriClient[] = [];
  const userLegs: Leg[] = [];
  for (let i = 0; i < calls; i++) {
    const storage = new MemoryStorage();
    await SoriClient.register({
      serverUrl: server.url,
      username: `benchuser${i}`,
      password: PASSWORD,
      storage,
    });
    const client = await SoriClient.open(storage);
    const l = leg();
    userLegs.push(l);
    client.calls.configure({
      platform: weriftPlatform({ loopback: true, onAudio: () => arrived(l, performance.now()) }).platform,
      useServerTurn: false,
    });
    client.calls.on("incoming", (call) => void call.accept());
    await client.connect();
    users.push(client);
  }
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  if (argv.includes("--warm")) {
    // One call per user first, hung up at once: the gateway's chat with each user exists afterwards,
    // so the measured round shows calls to people the gateway has called before.
    const warm: Phone[] = [];
    for (let i = 0; i < calls; i++) warm.push(await dial(gatewayPort, users[i]!.username, calls + i));
    const until = performance.now() + 60_000;
    while (warm.some((p) => p.answeredAt === null) && performance.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    for (const p of warm) p.bye();
    await new Promise((r) => setTimeout(r, 2000));
    for (const p of warm) {
      p.sip.close();
      p.rtp.close();
    }
  }
  const phones: Phone[] = [];
  for (let i = 0; i < calls; i++) phones.push(await dial(gatewayPort, users[i]!.username, i));
  const frames = setInterval(() => phones.forEach(sendFrame), FRAME_MS);
  const deadline = performance.now() + 30_000;
  while (phones.some((p) => p.answeredAt === null) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  const answered = phones.filter((p) => p.answeredAt !== null).length;
  const cpu0 = readCpuTicks(gw.pid!) ?? 0;
  const t0 = performance.now();
  let rssPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, readRssKb(gw.pid!) ?? 0)), 500);
  await new Promise((r) => setTimeout(r, durationS * 1000));
  const cpuPct =
    (((readCpuTicks(gw.pid!) ?? 0) - cpu0) / CLOCK_TICKS / ((performance.now() - t0) / 1000)) * 100;
  clearInterval(sampler);
  clearInterval(frames);
  loop.disable();
  const report = {
    calls,
    warm: argv.includes("--warm"),
    answered,
    durationS,
    gatewayCpuPct: Math.round(cpuPct * 10) / 10,
    gatewayCpuPctPerCall: Math.round((cpuPct / Math.max(1, answered)) * 100) / 100,
    gatewayRssPeakMB: Math.round(rssPeak / 1024),
    gapsOver60msAtPhones: phones.reduce((n, p) => n + p.heard.gaps, 0),
    gapsOver60msAtUsers: userLegs.reduce((n, l) => n + l.gaps, 0),
    packetsAtPhones: phones.reduce((n, p) => n + p.heard.packets, 0),
    packetsAtUsers: userLegs.reduce((n, l) => n + l.packets, 0),
    inviteTo180Ms: {
      p50: pct(
        phones.filter((p) => p.ringingAt).map((p) => p.ringingAt! - p.sentInviteAt),
        0.5,
      ),
      p95: pct(
        phones.filter((p) => p.ringingAt).map((p) => p.ringingAt! - p.sentInviteAt),
        0.95,
      ),
    },
    answerToFirstAudioMs: {
      p50: pct(
        phones.filter((p) => p.answeredAt && p.heard.first).map((p) => p.heard.first! - p.answeredAt!),
        0.5,
      ),
    },
    benchLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
  };
  for (const p of phones) {
    p.sip.close();
    p.rtp.close();
  }
  gw.kill("SIGINT");
  await new Promise((r) => gw.once("exit", r));
  for (const u of users) await u.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    argv.includes("--json") ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`,
  );
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
