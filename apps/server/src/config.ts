import { homedir } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BRIDGE_NAMESPACE_PATTERN, DEFAULT_LIMITS, type Limits, USERNAME_PATTERN } from "@sori/protocol";
import type { LogLevel } from "./logger.ts";
import { DEFAULT_PUSH_HOSTS, type PushHostPolicy, pushHostEntry } from "./push/push-hosts.ts";
import { DEFAULT_TURN_TTL_S, type TurnConfig } from "./turn-credentials.ts";

/** Everything the server can be told. Each field has a flag and an environment variable (see README). */
export type ServerConfig = {
  host: string;
  port: number;
  dataDir: string;
  durability: "full" | "normal";
  /** SQLite on its own thread (default) or on the main event loop. */
  storeThread: boolean;
  /** Serve Prometheus metrics at GET /metrics. */
  metrics: boolean;
  logLevel: LogLevel;
  sessionTtlDays: number;
  /** The built web app served on non-API paths (Vite's output: index.html and assets/). */
  webDir: string;
  limits: Limits;
  /** PEM certificate chain and private key files: when both are set the server speaks HTTPS and WSS. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  timeouts: Timeouts;
  /** Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry. */
  trustProxy: boolean;
  /** Cap on the database file in MB (0: none). Past it new messages are refused, never dropped. */
  maxDbMb: number;
  /** SQLite's page cache in MB: lookups of groups and members stay in memory as the database grows. */
  dbCacheMb: number;
  /** Bytes of the database file SQLite reads through a memory map, in MB (0: plain reads). */
  dbMmapMb: number;
  /** How often a thread of its own checkpoints the WAL, in ms (0: SQLite's checkpoint inside commits). */
  dbCheckpointMs: number;
  /** TURN relay for calls; undefined when no shared secret is configured. */
  turn: TurnConfig | undefined;
  /**
   * Usernames (lower case) the operator runs as gateways to other networks (SIP, XMPP): the
   * directory marks them, and clients show a call's or chat's foreign party only from them.
   */
  gateways: string[];
  /**
   * Namespaces of bridged identities and the gateway username that owns each (`xmpp` → `xmppgw`): only
   * that gateway may make and remove `xmpp:…` identities. Every owner is a gateway too.
   */
  bridges: Record<string, string>;
  /** Days an undelivered message or unfetched attachment is kept before it is purged. */
  retentionDays: number;
  /** Largest encrypted attachment, in bytes. */
  maxFileBytes: number;
  /** Bytes of attachments one account's uploads may take on the server (0: no cap). */
  maxAccountFileBytes: number;
  /** Bytes of attachments all uploads may take on the server (0: no cap). */
  maxFilesBytes: number;
  /**
   * Web Push: the push services' hosts the server sends to ("off", "any" public host, or a list),
   * plain http to loopback (tests and development only), and the operator's contact in every VAPID
   * token (`mailto:` or `https:`; Apple's push service refuses placeholders).
   */
  push: PushHostPolicy & { contact: string | undefined };
};

/** How long the server waits for a slow or silent peer before closing the connection, in seconds. */
export type Timeouts = {
  /** A new WebSocket must authenticate within this. */
  authS: number;
  /** A WebSocket is pinged after half of this without traffic and closed when no pong came by its end. */
  idleS: number;
  /** An HTTP request's headers and body must arrive within this (slowloris). */
  requestS: number;
};

/**
 * apps/web/dist of this checkout, found from this file rather than the working directory so
 * `npx sori server` serves the app from wherever it is started.
 */
const DEFAULT_WEB_DIR: string = fileURLToPath(new URL("../../web/dist", import.meta.url));

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

/** The TURN part being assembled from flags and env (URLs repeat; the first flag replaces env URLs). */
const turnOf = (c: ServerConfig): TurnConfig => {
  c.turn ??= { secret: "", urls: [], ttlS: DEFAULT_TURN_TTL_S };
  return c.turn;
};
const turnUrl = (v: string): string => {
  if (!/^turns?:[^\s]+$/.test(v))
    throw new ConfigError(`--turn-url must be a turn: or turns: URL, got "${v}"`);
  return v;
};
let turnUrlsFromFlags = false;

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
    flag: "--store-thread",
    env: "SORI_STORE_THREAD",
    apply: (c, v) => {
      if (v !== "on" && v !== "off")
        throw new ConfigError(`--store-thread must be "on" or "off", got "${v}"`);
      c.storeThread = v === "on";
    },
  },
  {
    flag: "--metrics",
    env: "SORI_METRICS",
    apply: (c, v) => {
      if (v !== "on" && v !== "off") throw new ConfigError(`--metrics must be "on" or "off", got "${v}"`);
      c.metrics = v === "on";
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
    flag: "--gateways",
    env: "SORI_GATEWAYS",
    apply: (c, v) => {
      const names = v
        .split(",")
        .map((n) => n.trim().toLowerCase())
        .filter(Boolean);
      if (names.some((n) => !USERNAME_PATTERN.test(n)))
        throw new ConfigError(
          "--gateways takes usernames (3–32 letters, digits, '_', '.', '-') separated by commas",
        );
      c.gateways = [...new Set([...c.gateways, ...names])];
    },
  },
  {
    flag: "--bridges",
    env: "SORI_BRIDGES",
    apply: (c, v) => {
      for (const pair of v
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [namespace = "", gateway = "", ...rest] = pair.split("=");
        if (rest.length > 0 || !BRIDGE_NAMESPACE_PATTERN.test(namespace) || !USERNAME_PATTERN.test(gateway))
          throw new ConfigError(
            `--bridges takes namespace=gateway pairs separated by commas (xmpp=xmppgw), not "${pair}"`,
          );
        const owner = gateway.toLowerCase();
        c.bridges = { ...c.bridges, [namespace]: owner };
        c.gateways = [...new Set([...c.gateways, owner])];
      }
    },
  },
  {
    flag: "--turn-secret",
    env: "SORI_TURN_SECRET",
    apply: (c, v) => {
      if (v.length < 16) throw new ConfigError("--turn-secret needs at least 16 characters");
      turnOf(c).secret = v;
    },
  },
  {
    flag: "--turn-url",
    env: "SORI_TURN_URLS",
    apply: (c, v) => {
      const t = turnOf(c);
      // The environment variable holds a comma-separated list; the flag repeats, and flags win.
      if (v.includes(",")) {
        t.urls = v
          .split(",")
          .map((u) => u.trim())
          .filter(Boolean)
          .map(turnUrl);
        return;
      }
      if (!turnUrlsFromFlags) t.urls = [];
      turnUrlsFromFlags = true;
      t.urls.push(turnUrl(v));
    },
  },
  {
    flag: "--turn-ttl-s",
    env: "SORI_TURN_TTL_S",
    apply: (c, v) => {
      turnOf(c).ttlS = int("--turn-ttl-s", v, 60, 7 * 86_400);
    },
  },
  {
    flag: "--push-hosts",
    env: "SORI_PUSH_HOSTS",
    apply: (c, v) => {
      const words = v
        .split(",")
        .map((w) => w.trim().toLowerCase())
        .filter(Boolean);
      if (words.length === 1 && (words[0] === "off" || words[0] === "any")) {
        c.push.hosts = words[0];
        return;
      }
      const hosts = words.flatMap((w) =>
        w === "default" ? DEFAULT_PUSH_HOSTS : w === "any" || w === "off" ? [""] : [pushHostEntry(w) ?? ""],
      );
      if (words.length === 0 || hosts.includes(""))
        throw new ConfigError(
          `--push-hosts takes "off", "any", or host names separated by commas ("default" for the big browsers' push services, "*.example.org" for its subdomains), not "${v}"`,
        );
      c.push.hosts = [...new Set(hosts)];
    },
  },
  {
    flag: "--push-contact",
    env: "SORI_PUSH_CONTACT",
    apply: (c, v) => {
      if (!/^(mailto:[^\s@]+@[^\s@]+\.[^\s@]+|https:\/\/[^\s/]+\.[^\s]+)$/.test(v))
        throw new ConfigError(
          `--push-contact must be a mailto: or https: URI with a real domain, got "${v}"`,
        );
      c.push.contact = v;
    },
  },
  {
    flag: "--push-loopback-http",
    env: "SORI_PUSH_LOOPBACK_HTTP",
    apply: (c, v) => {
      if (v !== "true" && v !== "false")
        throw new ConfigError(`--push-loopback-http must be "true" or "false", got "${v}"`);
      c.push.loopbackHttp = v === "true";
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
    flag: "--claims-per-pair-per-hour",
    env: "SORI_CLAIMS_PER_PAIR_PER_HOUR",
    apply: (c, v) => {
      c.limits.keyPackageClaimsPerPairPerHour = int("--claims-per-pair-per-hour", v, 1, 1_000_000);
    },
  },
  {
    flag: "--lookups-per-minute",
    env: "SORI_LOOKUPS_PER_MINUTE",
    apply: (c, v) => {
      // One request may name 100 usernames and 100 user ids: a smaller limit would refuse it for ever.
      c.limits.directoryLookupsPerMinute = int("--lookups-per-minute", v, 200, 100_000_000);
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
    flag: "--max-account-files-mb",
    env: "SORI_MAX_ACCOUNT_FILES_MB",
    apply: (c, v) => {
      c.maxAccountFileBytes = int("--max-account-files-mb", v, 0, 1_000_000_000) * 1_000_000;
    },
  },
  {
    flag: "--max-files-gb",
    env: "SORI_MAX_FILES_GB",
    apply: (c, v) => {
      c.maxFilesBytes = int("--max-files-gb", v, 0, 1_000_000) * 1_000_000_000;
    },
  },
  {
    flag: "--connections-per-account",
    env: "SORI_CONNECTIONS_PER_ACCOUNT",
    apply: (c, v) => {
      c.limits.connectionsPerAccount = int("--connections-per-account", v, 1, 100_000);
    },
  },
  {
    flag: "--devices-per-account",
    env: "SORI_DEVICES_PER_ACCOUNT",
    apply: (c, v) => {
      c.limits.devicesPerAccount = int("--devices-per-account", v, 1, 1000);
    },
  },
  {
    flag: "--messages-per-minute",
    env: "SORI_MESSAGES_PER_MINUTE",
    apply: (c, v) => {
      c.limits.messagesPerMinute = int("--messages-per-minute", v, 4, 100_000_000);
    },
  },
  {
    flag: "--unauthenticated-per-address",
    env: "SORI_UNAUTHENTICATED_PER_ADDRESS",
    apply: (c, v) => {
      c.limits.unauthenticatedPerAddress = int("--unauthenticated-per-address", v, 1, 1_000_000);
    },
  },
  {
    flag: "--requests-in-flight",
    env: "SORI_REQUESTS_IN_FLIGHT",
    apply: (c, v) => {
      c.limits.requestsInFlight = int("--requests-in-flight", v, 1, 100_000);
    },
  },
  {
    flag: "--auth-timeout",
    env: "SORI_AUTH_TIMEOUT",
    apply: (c, v) => {
      c.timeouts.authS = int("--auth-timeout", v, 1, 600);
    },
  },
  {
    flag: "--idle-timeout",
    env: "SORI_IDLE_TIMEOUT",
    apply: (c, v) => {
      c.timeouts.idleS = int("--idle-timeout", v, 2, 3600);
    },
  },
  {
    flag: "--request-timeout",
    env: "SORI_REQUEST_TIMEOUT",
    apply: (c, v) => {
      c.timeouts.requestS = int("--request-timeout", v, 1, 3600);
    },
  },
  {
    flag: "--max-db-mb",
    env: "SORI_MAX_DB_MB",
    apply: (c, v) => {
      c.maxDbMb = int("--max-db-mb", v, 0, 1 << 30);
    },
  },
  {
    flag: "--db-cache-mb",
    env: "SORI_DB_CACHE_MB",
    apply: (c, v) => {
      c.dbCacheMb = int("--db-cache-mb", v, 1, 1 << 20);
    },
  },
  {
    flag: "--db-mmap-mb",
    env: "SORI_DB_MMAP_MB",
    apply: (c, v) => {
      c.dbMmapMb = int("--db-mmap-mb", v, 0, 1 << 20);
    },
  },
  {
    flag: "--db-checkpoint-ms",
    env: "SORI_DB_CHECKPOINT_MS",
    apply: (c, v) => {
      c.dbCheckpointMs = int("--db-checkpoint-ms", v, 0, 60_000);
    },
  },
  {
    flag: "--trust-proxy",
    env: "SORI_TRUST_PROXY",
    apply: (c, v) => {
      if (v !== "true" && v !== "false")
        throw new ConfigError(`--trust-proxy must be "true" or "false", got "${v}"`);
      c.trustProxy = v === "true";
    },
  },
  {
    flag: "--tls-cert",
    env: "SORI_TLS_CERT",
    apply: (c, v) => {
      c.tlsCert = resolve(v);
    },
  },
  {
    flag: "--tls-key",
    env: "SORI_TLS_KEY",
    apply: (c, v) => {
      c.tlsKey = resolve(v);
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
    storeThread: true,
    metrics: true,
    logLevel: "info",
    sessionTtlDays: 90,
    webDir: DEFAULT_WEB_DIR,
    limits: { ...DEFAULT_LIMITS },
    tlsCert: undefined,
    tlsKey: undefined,
    timeouts: { authS: 10, idleS: 60, requestS: 30 },
    maxDbMb: 0,
    dbCacheMb: 64,
    dbMmapMb: 256,
    dbCheckpointMs: 100,
    trustProxy: false,
    turn: undefined,
    gateways: [],
    bridges: {},
    retentionDays: 30,
    maxFileBytes: 100_000_000,
    maxAccountFileBytes: 1_024_000_000,
    maxFilesBytes: 0,
    push: { hosts: DEFAULT_PUSH_HOSTS, loopbackHttp: false, contact: undefined },
  };
  turnUrlsFromFlags = false;
  for (const o of OPTIONS) {
    const v = env[o.env];
    // SORI_TURN_URLS is always a list, even of one URL.
    if (v !== undefined && v !== "")
      o.apply(config, o.env === "SORI_TURN_URLS" && !v.includes(",") ? `${v},` : v);
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
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined))
    throw new ConfigError("--tls-cert and --tls-key go together: give both or neither");
  return checkTurn(config);
}

/** TURN needs both halves: a secret without URLs (or the reverse) is a mistake worth stopping for. */
function checkTurn(config: ServerConfig): ServerConfig {
  const t = config.turn;
  if (!t) return config;
  if (!t.secret) throw new ConfigError("--turn-url needs --turn-secret (coturn's static-auth-secret)");
  if (t.urls.length === 0) throw new ConfigError("--turn-secret needs at least one --turn-url");
  return config;
}
