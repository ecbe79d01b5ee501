import { createSecureContext } from "node:tls";
import { join } from "node:path";
import { createLogger } from "@sori/server";
import { type SipListen, startSipGateway } from "@sori/sip-gateway";
import { untilInterrupted } from "../cli-io.ts";
import type { CommandContext } from "../command.ts";
import { readPemFile, readTlsPair } from "../pem-files.ts";
import { profileDir } from "../profile.ts";
import { withClient } from "../session.ts";
import { UsageError } from "../usage-error.ts";

/** `sori sip-gateway`: runs the gateway as the profile's account until interrupted. */
export async function runSipGateway(ctx: CommandContext): Promise<number> {
  const listen = parseListen(ctx.string("listen") ?? "udp:127.0.0.1:5060");
  const tls = await readTls(ctx, listen);
  const tlsTrust = await readTrust(ctx.string("sip-tls-ca"));
  const mediaAddress = ctx.string("media-address") ?? listen[0]!.address;
  if (mediaAddress === "0.0.0.0" || mediaAddress === "::")
    throw new UsageError("listening on every address: say with --media-address which one phones reach");
  const rtpPorts = parsePortRange(ctx.string("rtp-ports") ?? "40000-40999");
  const outbound = parseUsers("outbound", ctx.string("outbound") ?? "none");
  const phoneLines = parseUsers("phone-lines", ctx.string("phone-lines") ?? "all");
  const domains = (ctx.string("sip-domain") ?? "").split(",").filter((d) => d.trim() !== "");
  if (domains.some((d) => !/^[A-Za-z0-9.-]{1,253}$/.test(d)))
    throw new UsageError("--sip-domain takes host names separated by commas");
  const digest = (ctx.string("sip-digest") ?? "sha-256,md5").toUpperCase().split(",");
  if (
    digest.length === 0 ||
    digest.some((a) => a !== "SHA-256" && a !== "MD5") ||
    new Set(digest).size !== digest.length
  )
    throw new UsageError("--sip-digest takes sha-256 and/or md5, separated by a comma, preferred first");
  const trunk = parseTrunk(ctx);
  const linesFile = ctx.string("lines-file") ?? join(profileDir(ctx), "sip-lines.json");
  const rate = Number(ctx.string("invites-per-second") ?? "2");
  if (!Number.isInteger(rate) || rate < 1 || rate > 10_000)
    throw new UsageError("--invites-per-second takes a whole number from 1 to 10000");
  return withClient(ctx, async (client) => {
    if (client.approval !== "approved")
      throw new UsageError("this device waits for approval by another device of the account");
    const gateway = await startSipGateway({
      client,
      listen,
      ...(tls ? { tls } : {}),
      ...(tlsTrust ? { tlsTrust } : {}),
      mediaAddress,
      rtpPorts,
      ringTimeoutMs: ctx.seconds("ring-timeout") * 1000,
      outbound,
      phoneLines,
      domains,
      linesFile,
      ...(trunk ? { trunk } : {}),
      digestAlgorithms: digest as ("SHA-256" | "MD5")[],
      invitesPerSecond: rate,
      inviteBurst: Math.max(10, rate * 5),
      loopback: ctx.flag("loopback"),
      // JSON lines on stderr: events and ids only, never SIP credentials or audio.
      log: createLogger("info", (line) => process.stderr.write(line)),
    });
    // The first line ends with the UDP port (scripts read it); the other transports follow on their own.
    const bound = listen.map(
      (l) => `${l.transport}:${hostText(l.address)}:${gateway.ports[l.transport] ?? l.port}`,
    );
    const udp = bound.find((b) => b.startsWith("udp:"));
    ctx.err(`sori: SIP gateway for ${client.username} listening on ${udp ?? bound[0]}`);
    const others = bound.filter((b) => b !== (udp ?? bound[0]));
    if (others.length > 0) ctx.err(`sori: SIP also on ${others.join(", ")}`);
    await untilInterrupted(ctx.io);
    await gateway.stop();
    return 0;
  });
}

/** `udp:<host>:<port>[,tcp:<host>:<port>][,tls:<host>:<port>]`, one listener per transport. */
function parseListen(value: string): SipListen[] {
  const listen = value.split(",").map((part) => {
    const m = /^(udp|tcp|tls):(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(part.trim());
    const port = Number(m?.[3]);
    if (!m || port > 65_535)
      throw new UsageError(`--listen takes <udp|tcp|tls>:<host>:<port>, separated by commas, not ${part}`);
    return { transport: m[1] as SipListen["transport"], address: m[2]!.replace(/^\[|\]$/g, ""), port };
  });
  if (new Set(listen.map((l) => l.transport)).size !== listen.length)
    throw new UsageError("--listen takes one listener per transport (udp, tcp, tls)");
  return listen;
}

/** The certificate and key files of a tls listener, read (PEM); a usage error if missing or bad. */
async function readTls(
  ctx: CommandContext,
  listen: readonly SipListen[],
): Promise<{ cert: string; key: string } | undefined> {
  const certFile = ctx.string("sip-tls-cert");
  const keyFile = ctx.string("sip-tls-key");
  const wanted = listen.some((l) => l.transport === "tls");
  if (!wanted) {
    if (certFile || keyFile)
      throw new UsageError("--sip-tls-cert and --sip-tls-key need a tls: listener in --listen");
    return undefined;
  }
  if (!certFile || !keyFile)
    throw new UsageError("a tls: listener needs --sip-tls-cert <file> and --sip-tls-key <file> (PEM)");
  return readTlsPair(certFile, keyFile, "SIP TLS");
}

/** The CA certificates of --sip-tls-ca, read and checked (PEM); a usage error if missing or bad. */
async function readTrust(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const pem = await readPemFile(file, "SIP TLS CA file");
  try {
    createSecureContext({ ca: pem });
  } catch (e) {
    throw new UsageError(`the SIP TLS CA file ${file} does not load: ${(e as Error).message}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new UsageError(`the SIP TLS CA file ${file} holds no PEM certificate`);
  return pem;
}

function hostText(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

function parseUsers(option: string, value: string): "all" | "none" | string[] {
  if (value === "all" || value === "none") return value;
  const users = value.split(",").map((u) => u.trim());
  if (users.some((u) => !/^[A-Za-z0-9_.-]{1,64}$/.test(u)))
    throw new UsageError(`--${option} takes all, none or usernames separated by commas, not ${value}`);
  return users;
}

function parsePortRange(value: string): { min: number; max: number } {
  const m = /^(\d{4,5})-(\d{4,5})$/.exec(value);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65_535 || max - min < 1)
    throw new UsageError(`--rtp-ports takes <min>-<max> between 1024 and 65535, not ${value}`);
  return { min, max };
}

/** --sip-trunk and its companions; the password only from the environment (not in `ps`). */
function parseTrunk(
  ctx: CommandContext,
):
  | { uri: string; username?: string; password?: string; callerId?: string; inbound?: Record<string, string> }
  | undefined {
  const uri = ctx.string("sip-trunk");
  const username = ctx.string("sip-trunk-user");
  const callerId = ctx.string("sip-trunk-caller-id");
  const inboundText = ctx.string("sip-trunk-inbound");
  if (!uri) {
    if (username || callerId || inboundText)
      throw new UsageError("the --sip-trunk-… options need --sip-trunk");
    return undefined;
  }
  if (!/^sips?:[A-Za-z0-9.-]+(:\d{1,5})?(;transport=(udp|tcp|tls))?$/i.test(uri))
    throw new UsageError(
      `--sip-trunk takes sip:<host>[:<port>][;transport=udp|tcp|tls] or sips:<host>[:<port>], not ${uri}`,
    );
  const password = ctx.io.env.SORI_SIP_TRUNK_PASSWORD;
  if (username && !password)
    throw new UsageError("--sip-trunk-user needs the password in SORI_SIP_TRUNK_PASSWORD");
  const inbound: Record<string, string> = {};
  for (const pair of (inboundText ?? "").split(",").filter((p) => p.trim() !== "")) {
    const m = /^\s*(\+?[0-9*#]{1,32})=([A-Za-z0-9_.-]{1,64})\s*$/.exec(pair);
    if (!m) throw new UsageError(`--sip-trunk-inbound takes <number>=<username> pairs, not ${pair}`);
    inbound[m[1]!] = m[2]!;
  }
  return {
    uri,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(callerId ? { callerId } : {}),
    ...(Object.keys(inbound).length > 0 ? { inbound } : {}),
  };
}
