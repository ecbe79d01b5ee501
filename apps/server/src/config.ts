import { homedir } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LIMITS, type Limits } from "@sori/protocol";
import type { LogLevel } from "./logger.ts";

/** Everything the server can be told. Each field has a flag and an environment variable (see README). */
export type ServerConfig = {
  host: string;
  port: number;
  dataDir: string;
  durability: "full" | "normal";
  logLevel: LogLevel;
  sessionTtlDays: number;
  /** The built web app served on non-API paths (Vite's output: index.html and assets/). */
  webDir: string;
  limits: Limits;
  /** Days an undelivered message or unfetched attachment is kept before it is purged. */
  retentionDays: number;
  /** Largest encrypted attachment, in bytes. */
  maxFileBytes: number;
};

/**
 * apps/web/dist of this checkout, found from this file rather than the working directory so
 * `npx sori server` serves the app from wherever it is started.
 */
export const DEFAULT_WEB_DIR: string = fileURLToPath(new URL("../../web/dist", import.meta.url));

export class ConfigError extends Error {
  readonly code = "bad-config";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Option = { flag: string; env: string; apply: (c: ServerConfig, v: string) => void };

const int = (name: string, v: string, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
};

const OPTIONS: Option[] = [
  {
    flag: "--host",
    env: "SORI_HOST",
    apply: (c, v) => {
      c.host = v;
    },
  },
  {
    flag: "--port",
    env: "SORI_PORT",
    apply: (c, v) => {
      c.port = int("--port", v, 0, 65535);
    },
  },
  {
    flag: "--data",
    env: "SORI_DATA",
    apply: (c, v) => {
      c.dataDir = resolve(v);
    },
  },
  {
    flag: "--durability",
    env: "SORI_DURABILITY",
    apply: (c, v) => {
      if (v !== "full" && v !== "normal")
        throw new ConfigError(`--durability must be "full" or "normal", got "${v}"`);
      c.durability = v;
    },
  },
  {
    flag: "--log-level",
    env: "SORI_LOG_LEVEL",
    apply: (c, v) => {
      if (!["debug", "info", "warn", "error"].includes(v))
        throw new ConfigError(`--log-level must be debug, info, warn or error`);
      c.logLevel = v as LogLevel;
    },
  },
  {
    flag: "--session-ttl-days",
    env: "SORI_SESSION_TTL_DAYS",
    apply: (c, v) => {
      c.sessionTtlDays = int("--session-ttl-days", v, 1, 3650);
    },
  },
  {
    flag: "--web-dir",
    env: "SORI_WEB_DIR",
    apply: (c, v) => {
      c.webDir = resolve(v);
    },
  },
  {
    flag: "--max-frame-bytes",
    env: "SORI_MAX_FRAME_BYTES",
    apply: (c, v) => {
      c.limits.maxFrameBytes = int("--max-frame-bytes", v, 4096, 64 << 20);
    },
  },
  {
    flag: "--max-message-bytes",
    env: "SORI_MAX_MESSAGE_BYTES",
    apply: (c, v) => {
      c.limits.maxMessageBytes = int("--max-message-bytes", v, 256, 64 << 20);
    },
  },
  {
    flag: "--login-attempts-per-minute",
    env: "SORI_LOGIN_ATTEMPTS_PER_MINUTE",
    apply: (c, v) => {
      c.limits.loginAttemptsPerMinute = int("--login-attempts-per-minute", v, 1, 1_000_000);
    },
  },
  {
    flag: "--registrations-per-minute",
    env: "SORI_REGISTRATIONS_PER_MINUTE",
    apply: (c, v) => {
      c.limits.registrationsPerMinute = int("--registrations-per-minute", v, 1, 1_000_000);
    },
  },
  {
    flag: "--claims-per-minute",
    env: "SORI_CLAIMS_PER_MINUTE",
    apply: (c, v) => {
      c.limits.keyPackageClaimsPerMinute = int("--claims-per-minute", v, 1, 1_000_000);
    },
  },
  {
    flag: "--retention-days",
    env: "SORI_RETENTION_DAYS",
    apply: (c, v) => {
      c.retentionDays = int("--retention-days", v, 1, 3650);
    },
  },
  {
    flag: "--max-file-mb",
    env: "SORI_MAX_FILE_MB",
    apply: (c, v) => {
      c.maxFileBytes = int("--max-file-mb", v, 1, 1_000_000) * 1_000_000;
    },
  },
  {
    flag: "--connections-per-account",
    env: "SORI_CONNECTIONS_PER_ACCOUNT",
    apply: (c, v) => {
      c.limits.connectionsPerAccount = int("--connections-per-account", v, 1, 100_000);
    },
  },
];

/** The documented options, for `--help`. */
export const CONFIG_HELP = OPTIONS.map((o) => `  ${o.flag} <value>  (env ${o.env})`).join("\n");

/** Defaults, then environment variables, then flags (flags win). Throws ConfigError on bad values. */
export function parseServerConfig(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): ServerConfig {
  const config: ServerConfig = {
    host: "127.0.0.1",
    port: 8080,
    dataDir: resolve("sori-data"),
    durability: "full",
    logLevel: "info",
    sessionTtlDays: 90,
    webDir: DEFAULT_WEB_DIR,
    limits: { ...DEFAULT_LIMITS },
    retentionDays: 30,
    maxFileBytes: 100_000_000,
  };
  for (const o of OPTIONS) {
    const v = env[o.env];
    if (v !== undefined && v !== "") o.apply(config, v);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const o = OPTIONS.find((x) => x.flag === flag);
    if (!o) throw new ConfigError(`unknown option "${arg}"`);
    const v = inline ?? args[++i];
    if (v === undefined) throw new ConfigError(`${flag} needs a value`);
    o.apply(config, v.startsWith("~/") ? resolve(homedir(), v.slice(2)) : v);
  }
  return config;
}
