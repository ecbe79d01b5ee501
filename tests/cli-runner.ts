import { type ChildProcess, execFile, spawn } from "node:child_process";
import { resolve } from "node:path";

/** The `sori` command line, run with the test's own Node (relative to the repo root, where tests run). */
export const SORI = resolve("apps/cli/bin/sori.js");

/** What one finished `sori …` run printed, and its exit code. */
export type CliRun = { code: number; stdout: string; stderr: string };

/** Runs `sori <args>` to completion (killed after `timeoutMs`). */
export type CliRunner = (args: string[], env?: Record<string, string>) => Promise<CliRun>;

/** A runner of `sori` whose password prompt is answered by SORI_PASSWORD=`password`. */
export function soriRunner(password: string, timeoutMs: number): CliRunner {
  return (args, env = {}) =>
    new Promise((done) => {
      execFile(
        process.execPath,
        [SORI, ...args],
        { env: { ...process.env, SORI_PASSWORD: password, ...env }, timeout: timeoutMs },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          done({ code, stdout, stderr });
        },
      );
    });
}

/**
 * Starts `sori <args>` as a child and gives its first line of stdout as soon as it is printed (for a
 * command that goes on running, such as `sori devices link`), and the whole run once it ends (killed
 * after `timeoutMs`).
 */
export function soriStreaming(
  password: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): { firstLine: Promise<string>; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [SORI, ...args], {
    env: { ...process.env, SORI_PASSWORD: password, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += String(c)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      stdout += String(c);
      if (stdout.includes("\n")) resolve(stdout.slice(0, stdout.indexOf("\n")));
    });
    child.once("exit", () =>
      reject(new Error(`sori ${args.join(" ")} ended before printing a line: ${stderr}`)),
    );
  });
  const done = new Promise<CliRun>((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    }),
  );
  return { firstLine, done };
}

/**
 * Starts `sori <args>` in the background; `ready` resolves with the first stderr line matching
 * `readyOn` (a command saying it listens), `done` once it ends (killed after `timeoutMs`), and
 * `interrupt()` sends it Ctrl-C.
 */
export function soriBackground(
  password: string,
  args: string[],
  readyOn: RegExp,
  timeoutMs: number,
): { ready: Promise<string>; done: Promise<CliRun>; interrupt(): void } {
  const child = spawn(process.execPath, [SORI, ...args], {
    env: { ...process.env, SORI_PASSWORD: password },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  let stdout = "";
  let stderr = "";
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += String(chunk);
      const line = stderr.split("\n").find((l) => readyOn.test(l));
      if (line) resolve(line);
    });
    child.once("exit", () => reject(new Error(`sori ${args[0]} exited before it was ready: ${stderr}`)));
  });
  ready.catch(() => undefined);
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += String(chunk);
  });
  const done = new Promise<CliRun>((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(killer);
      resolve({ code: code ?? 1, stdout, stderr });
    }),
  );
  return { ready, done, interrupt: () => child.kill("SIGINT") };
}

/** A runner of `sori` in this process (run(argv, io) with a memory io): no child, no Node start-up. */
export function inProcessRunner(password: string): CliRunner {
  return async (args, env = {}) => {
    // Loaded on first use: the tests that spawn `sori` need none of the CLI's modules.
    const { memoryIo, run } = await import("@sori/cli");
    const m = memoryIo({ env: { SORI_PASSWORD: password, ...env } });
    const code = await run(args, m.io);
    return { code, stdout: m.stdout(), stderr: m.stderr() };
  };
}

/** Output of `--json`: one object per line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A `sori server` child process on a free loopback port. */
export type CliServer = {
  url: string;
  process: ChildProcess;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
};

/** Starts `sori server --port 0 --data <dataDir>` and waits (at most 15 s) until it says where it listens. */
export async function startCliServer(dataDir: string, extraArgs: string[] = []): Promise<CliServer> {
  const child = spawn(process.execPath, [SORI, "server", "--port", "0", "--data", dataDir, ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error("server did not start")), 15_000);
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += String(chunk);
        const m = out.match(/listening on (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]!);
        }
      });
      child.on("exit", () => reject(new Error("server exited early")));
    });
    return { url, process: child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A long-running `sori …` child whose stderr lines are read while it runs (a gateway's JSON log). */
export type SoriChild = {
  /** Every stderr line so far. */
  lines(): string[];
  /** The first stderr line (past or future) matching `re`, within `timeoutMs`. */
  waitLine(re: RegExp, timeoutMs: number, from?: number): Promise<string>;
  /** Sends a signal: SIGINT is Ctrl-C, SIGKILL a crash. */
  signal(sig: NodeJS.Signals): void;
  done: Promise<CliRun>;
};

/** Starts `sori <args>` with `env` (killed after `timeoutMs`); see SoriChild. */
export function soriChild(
  password: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): SoriChild {
  const child = spawn(process.execPath, [SORI, ...args], {
    env: { ...process.env, SORI_PASSWORD: password, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  let stdout = "";
  let stderr = "";
  const lines: string[] = [];
  let waiters: (() => void)[] = [];
  child.stdout.on("data", (c: Buffer) => (stdout += String(c)));
  child.stderr.on("data", (c: Buffer) => {
    stderr += String(c);
    const parts = stderr.split("\n");
    stderr = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const done = new Promise<CliRun>((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(killer);
      if (stderr) lines.push(stderr);
      for (const w of waiters.splice(0)) w();
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: lines.join("\n") });
    }),
  );
  let exited = false;
  void done.then(() => (exited = true));
  return {
    lines: () => [...lines],
    waitLine: async (re, timeoutMs, from = 0) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.slice(from).find((l) => re.test(l));
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0 || exited)
          throw new Error(
            `sori ${args[0]}: no line matching ${re} in ${timeoutMs} ms; last: ${lines.slice(-5).join(" | ")}`,
          );
        await new Promise<void>((r) => {
          const timer = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(timer);
            r();
          });
        });
        waiters = waiters.filter(Boolean);
      }
    },
    signal: (sig) => {
      if (!exited) child.kill(sig);
    },
    done,
  };
}
