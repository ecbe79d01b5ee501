import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** A Sori server running as a child process of the benchmark. */
export type ServerProcess = {
  pid: number;
  /** performance.now() when the process was spawned, to place events on a server CPU profile's timeline. */
  spawnedAt: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The first stderr lines (warnings and errors at --log-level warn), for the report. */
  stderrHead: string[];
  /** All stderr lines seen, including those not kept. */
  stderrCount(): number;
  /** Exit code or signal if the server has already exited (it should not during a run). */
  exited(): string | undefined;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  stop(): Promise<string>;
};

export type ServerProcessOptions = {
  /** Repository root: the server script and node binary are found relative to it. */
  root: string;
  dataDir: string;
  durability: "full" | "normal";
  /** Extra node flags placed before the script path (e.g. --cpu-prof). */
  nodeArgs: string[];
  /** Extra server flags, after the benchmark's own (so they win). */
  serverArgs: string[];
  readyTimeoutMs: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs: number;
};

const STDERR_KEEP = 40;

/**
 * The node binary for the server: the repository's pinned Node (node_modules/.bin/node) if present,
 * else whatever runs this script, so the server runs on the same Node the project targets.
 */
function nodeBinary(root: string): string {
  const pinned = join(root, "node_modules", ".bin", "node");
  return existsSync(pinned) ? pinned : process.execPath;
}

/**
 * The node flags `npm start` gives the server (e.g. its young-generation cap), read from the
 * checkout's package.json so benchmarks measure the server as it is deployed.
 */
export function startScriptNodeFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    scripts?: { start?: string };
  };
  const words = (pkg.scripts?.start ?? "").split(/\s+/);
  const flags: string[] = [];
  for (const w of words.slice(words.indexOf("node") + 1)) {
    if (!w.startsWith("--")) break;
    flags.push(w);
  }
  return flags;
}

/** Starts a fresh server with limits opened up for load and waits for its "listening on" line. */
export function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const args = [
    ...options.nodeArgs,
    "apps/server/src/main.ts",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--data",
    options.dataDir,
    "--durability",
    options.durability,
    // The benchmark registers and connects many accounts from one address: the abuse limits would
    // otherwise throttle the setup, which is not what is being measured.
    "--registrations-per-minute",
    "1000000",
    "--login-attempts-per-minute",
    "1000000",
    "--claims-per-minute",
    "1000000",
    "--connections-per-account",
    "100000",
    "--requests-in-flight",
    "100000",
    "--unauthenticated-per-address",
    "1000000",
    "--messages-per-minute",
    "100000000",
    "--log-level",
    "warn",
    ...options.serverArgs,
  ];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(nodeBinary(options.root), args, {
    cwd: options.root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderrHead: string[] = [];
  let stderrLines = 0;
  let exitedWith: string | undefined;
  const exitPromise = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      exitedWith = signal ? `signal ${signal}` : `code ${code}`;
      resolve(exitedWith);
    });
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderrLines++;
    if (stderrHead.length < STDERR_KEEP) stderrHead.push(line);
  });

  const stop = async (): Promise<string> => {
    if (exitedWith !== undefined) return exitedWith;
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, options.stopGraceMs);
    });
    await Promise.race([exitPromise, killed]);
    clearTimeout(timer);
    return exitPromise;
  };

  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`server did not print "listening on" within ${options.readyTimeoutMs} ms`));
    }, options.readyTimeoutMs);
    void exitPromise.then((how) => {
      clearTimeout(timer);
      reject(new Error(`server exited before it was ready (${how}): ${stderrHead.join(" | ")}`));
    });
    let ready = false;
    // Keep reading stdout after the ready line so the pipe never fills and blocks the server.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      if (ready || !m || child.pid === undefined) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        pid: child.pid,
        spawnedAt,
        url: m[1]!,
        stderrHead,
        stderrCount: () => stderrLines,
        exited: () => exitedWith,
        stop,
      });
    });
  });
}
