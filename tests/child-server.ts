import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";

const MAIN = resolve("apps/server/src/main.ts");

/** A server running as a real child process (`node apps/server/src/main.ts`), as `sori server` runs. */
export type ChildServer = {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr (its JSON log lines). */
  stderr(): string;
  /** SIGKILL, as a crash or the OOM killer would: no shutdown code runs. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
};

/** A port that was free a moment ago (listen on 0, read it, close), for servers restarted on one port. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts the server with `args` and resolves once it printed "listening on URL" (15 s at most). */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, [MAIN, "--host", "127.0.0.1", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += String(c);
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start: ${err.slice(-500)}`));
    }, 15_000);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += String(chunk);
      const m = out.match(/listening on (https?:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}): ${err.slice(-500)}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
