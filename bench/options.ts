import { parseArgs } from "node:util";
import type { TransportKind } from "./transport.ts";

/** Everything `bench/load.ts` can be told (see bench/README.md). */
export type LoadOptions = {
  clients: number;
  /** Aggregate messages per second over all clients. */
  rate: number;
  /** Measurement window, seconds. */
  duration: number;
  /** Load before the window that is not measured, seconds. */
  warmup: number;
  /** Ciphertext bytes per message. */
  size: number;
  durability: "full" | "normal";
  groupsPerClient: number;
  /** Longest wait after the window for outstanding messages, seconds. */
  drain: number;
  client: TransportKind;
  json: boolean;
  out: string | undefined;
  /** Directory for a V8 CPU profile of the server (node --cpu-prof), if wanted. */
  serverCpuProf: string | undefined;
  keepData: boolean;
  /** How accounts are made: written into the data dir before the server starts, or registered over HTTP. */
  setup: "seed" | "http";
  /** Extra flags for the server (e.g. --workers 2), repeated. */
  serverArgs: string[];
  /** Extra node flags for the server process (e.g. --max-semi-space-size=16), repeated. */
  serverNodeArgs: string[];
  /** Another checkout whose server to run (A/B comparisons); default this one. */
  serverRoot: string | undefined;
  /** Clients per second dropped and reconnected during the load (soak runs). */
  churn: number;
  /** Wait up to this many seconds for the shared machine to be idle before starting. */
  waitIdle: number;
  help: boolean;
};

export const LOAD_USAGE = `usage: node bench/load.ts [options]
  --clients C             WebSocket clients, one registered user each (default 100)
  --rate R                messages per second, all clients together (default 1000)
  --duration D            measurement window in seconds (default 10)
  --warmup W              unmeasured load before the window, seconds (default 2)
  --size B                ciphertext bytes per message (default 64)
  --durability full|normal  server --durability (default full)
  --groups-per-client G   1:1 groups each client creates with random partners (default 4)
  --drain S               longest wait for outstanding messages after the window, s (default 10)
  --client ws|native      WebSocket client: the ws package or Node's built-in one (default ws)
  --json                  print one JSON object instead of the text report
  --out FILE              also write the JSON report to FILE
  --server-cpu-prof DIR   run the server under node --cpu-prof, profile written to DIR
  --wait-idle S           wait up to S s for an idle machine (<15 % of a core busy) before starting (default 0)
  --setup seed|http       accounts written into the data dir before start (fast) or registered over HTTP (scrypt each; default seed)
  --server-arg ARG        extra server flag, repeatable (e.g. --server-arg=--durability=normal)
  --server-node-arg ARG   extra node flag for the server, repeatable (replaces the defaults of npm start)
  --server-root DIR       run the server of another checkout (A/B against a baseline), default this one
  --churn N               clients per second that drop their connection and reconnect 100 ms later (default 0)
  --keep-data             keep the server's data directory (printed) instead of deleting it
`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function num(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${text}"`);
  return n;
}

function int(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  const n = num(name, text, fallback, min, max);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${text}"`);
  return n;
}

/** Parses the command line; throws UsageError on anything unknown or out of range. */
export function parseLoadOptions(argv: string[]): LoadOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  const durability = v.durability ?? "full";
  if (durability !== "full" && durability !== "normal")
    throw new UsageError(`--durability must be "full" or "normal", got "${durability}"`);
  const client = v.client ?? "ws";
  if (client !== "ws" && client !== "native")
    throw new UsageError(`--client must be "ws" or "native", got "${client}"`);
  const setup = v.setup ?? "seed";
  if (setup !== "seed" && setup !== "http")
    throw new UsageError(`--setup must be "seed" or "http", got "${setup}"`);
  return {
    // A 1:1 group needs a partner, hence at least two clients.
    clients: int("clients", v.clients, 100, 2, 20_000),
    rate: num("rate", v.rate, 1000, 1, 1_000_000),
    duration: num("duration", v.duration, 10, 1, 3600),
    warmup: num("warmup", v.warmup, 2, 0, 600),
    // The server's default largest MLS message is 64 KiB.
    size: int("size", v.size, 64, 1, 64 * 1024),
    durability,
    groupsPerClient: int("groups-per-client", v["groups-per-client"], 4, 1, 100),
    drain: num("drain", v.drain, 10, 0, 60),
    client,
    json: v.json ?? false,
    out: v.out,
    serverCpuProf: v["server-cpu-prof"],
    keepData: v["keep-data"] ?? false,
    setup,
    serverArgs: v["server-arg"] ?? [],
    serverNodeArgs: v["server-node-arg"] ?? [],
    serverRoot: v["server-root"],
    churn: num("churn", v.churn, 0, 0, 1000),
    waitIdle: num("wait-idle", v["wait-idle"], 0, 0, 3600),
    help: v.help ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      clients: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      size: { type: "string" },
      durability: { type: "string" },
      "groups-per-client": { type: "string" },
      drain: { type: "string" },
      client: { type: "string" },
      json: { type: "boolean" },
      out: { type: "string" },
      "server-cpu-prof": { type: "string" },
      "keep-data": { type: "boolean" },
      setup: { type: "string" },
      "server-arg": { type: "string", multiple: true },
      "server-node-arg": { type: "string", multiple: true },
      "server-root": { type: "string" },
      churn: { type: "string" },
      "wait-idle": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
