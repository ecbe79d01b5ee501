import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { CliIo } from "../cli-io.ts";

/**
 * Options of `sori server` that belong to the SIP gateway it runs beside itself: `--sip-<name>` is the
 * gateway's `--<name>` (its own `--sip-…` options keep their names).
 */
const GATEWAY_OPTIONS = new Map<string, string>([
  ["--sip-listen", "--listen"],
  ["--sip-media-address", "--media-address"],
  ["--sip-rtp-ports", "--rtp-ports"],
  ["--sip-ring-timeout", "--ring-timeout"],
  ["--sip-outbound", "--outbound"],
  ["--sip-invites-per-second", "--invites-per-second"],
  ["--sip-phone-lines", "--phone-lines"],
  ["--sip-digest", "--sip-digest"],
  ["--sip-domain", "--sip-domain"],
  ["--sip-trunk", "--sip-trunk"],
  ["--sip-trunk-user", "--sip-trunk-user"],
  ["--sip-trunk-caller-id", "--sip-trunk-caller-id"],
  ["--sip-trunk-inbound", "--sip-trunk-inbound"],
  ["--sip-tls-cert", "--sip-tls-cert"],
  ["--sip-tls-key", "--sip-tls-key"],
  ["--sip-tls-ca", "--sip-tls-ca"],
]);
/** Flags (no value) of the gateway, likewise. */
const GATEWAY_FLAGS = new Map<string, string>([["--sip-loopback", "--loopback"]]);
/** The gateway's account (default "phone"): not an option of the gateway itself. */
const ACCOUNT_OPTION = "--sip-account";

/** Whether `sori server` (npm start) was asked to run the SIP gateway too. */
export function wantsGateway(argv: readonly string[]): boolean {
  return argv.some((a) => a === "--sip-listen" || a.startsWith("--sip-listen="));
}

/** Splits `sori server` arguments into the server's, the gateway's and the gateway account's name. */
export function splitGatewayArgs(argv: readonly string[]): {
  server: string[];
  gateway: string[];
  account: string;
} {
  const server: string[] = [];
  const gateway: string[] = [];
  let account = "phone";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = GATEWAY_FLAGS.get(arg);
    if (flag) {
      gateway.push(flag);
      continue;
    }
    const mapped = GATEWAY_OPTIONS.get(name);
    if (!mapped && name !== ACCOUNT_OPTION) {
      server.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new GatewayArgsError(`${name} needs a value`);
    if (mapped) gateway.push(mapped, value);
    else account = value;
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(account))
    throw new GatewayArgsError(`${ACCOUNT_OPTION} takes a username`);
  return { server, gateway, account };
}

/**
 * `sori server --sip-listen …` (and `npm start -- --sip-listen …`): the server, then the SIP gateway
 * beside it in the same process as a Sori client of it, like any bot. The gateway's account and
 * device are made at the first start and kept in `<data dir>/sip-gateway` (a profile without a
 * passphrase, as the server's own data is).
 */
export async function runServerWithGateway(
  argv: readonly string[],
  io: CliIo,
  run: (argv: string[], io: CliIo) => Promise<number>,
): Promise<number> {
  let split: ReturnType<typeof splitGatewayArgs>;
  try {
    split = splitGatewayArgs(argv);
  } catch (error) {
    if (!(error instanceof GatewayArgsError)) throw error;
    io.stderr(`sori server: ${error.message}\n`);
    return 2;
  }
  const { ConfigError, createLogger, parseServerConfig, startServer } = await import("@sori/server");
  let config: ReturnType<typeof parseServerConfig>;
  try {
    // The gateway's account is marked as one in the directory: its calls may name phone callers.
    config = parseServerConfig([...split.server, "--gateways", split.account]);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`sori server: ${error.message}\n`);
    return 2;
  }
  const log = createLogger(config.logLevel, (line) => io.stderr(line));
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, log);
  } catch (error) {
    io.stderr(`sori server: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  io.stdout(`listening on ${server.url}\n`);
  try {
    const profile = join(config.dataDir, "sip-gateway");
    if (!existsSync(profile) || readdirSync(profile).length === 0) {
      io.stderr(`sori server: making the SIP gateway's account ${split.account}\n`);
      // The password is never needed again: the device stays signed in with its own key and token.
      const registered = await run(
        [
          "register",
          split.account,
          "--server",
          server.url,
          "--no-passphrase",
          "--name",
          "sip-gateway",
          "--profile",
          profile,
        ],
        { ...io, env: { ...io.env, SORI_PASSWORD: randomBytes(24).toString("base64url") } },
      );
      if (registered !== 0) {
        io.stderr(
          `sori server: could not make the gateway's account ${split.account} (taken? pick another with ${ACCOUNT_OPTION})\n`,
        );
        return 1;
      }
    }
    // Started on another port or address since (--port 0, a new --host): the device follows.
    const { SoriClient } = await import("@sori/sdk");
    const { FileStorage } = await import("@sori/sdk/node");
    const files = new FileStorage(profile);
    try {
      await SoriClient.moveServer(files, server.url);
    } finally {
      files.release();
    }
    return await run(["sip-gateway", ...split.gateway, "--profile", profile], io);
  } finally {
    await server.close();
  }
}

/** What `sori server --help` adds about the gateway. */
export const GATEWAY_HELP = `
SIP gateway beside the server (a Sori client of it, account made at first start in <data>/sip-gateway):
  --sip-listen udp:<host>:<port>[,tcp:…,tls:…]   run the gateway (the other --sip-… options need it)
  --sip-account <username>         the gateway's account (default phone)
  --sip-media-address, --sip-rtp-ports, --sip-ring-timeout, --sip-outbound, --sip-invites-per-second,
  --sip-phone-lines, --sip-digest, --sip-domain, --sip-trunk, --sip-trunk-user, --sip-trunk-caller-id,
  --sip-trunk-inbound, --sip-tls-cert, --sip-tls-key, --sip-tls-ca, --sip-loopback: as for sori sip-gateway
  (sori sip-gateway --help)
`;

/** `sori server`'s SIP options are malformed. */
class GatewayArgsError extends Error {
  readonly code = "usage";
}
