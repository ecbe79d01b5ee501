import { hostname, homedir } from "node:os";
import { createInterface } from "node:readline";
import { createInterface as createPromiseInterface } from "node:readline/promises";
import type { CliIo } from "./cli-io.ts";

/** The CliIo of this process: its streams, terminal, environment and signals. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdinIsTty: process.stdin.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    env: process.env,
    homeDir: homedir(),
    hostname: hostname(),
    promptHidden,
    ask: async (question, signal) => {
      const rl = createPromiseInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question, { signal });
      } catch (error) {
        if (signal.aborted) return "";
        throw error;
      } finally {
        rl.close();
      }
    },
    readLine: async () => {
      const rl = createInterface({ input: process.stdin });
      for await (const line of rl) {
        rl.close();
        return line;
      }
      return "";
    },
    onLine: (handler) => {
      const rl = createInterface({ input: process.stdin });
      rl.on("line", handler);
      return () => rl.close();
    },
    onInterrupt: (handler) => {
      process.once("SIGINT", handler);
      process.once("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
    exitSoon: () => {
      setTimeout(() => process.exit(), 500).unref();
    },
  };
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding("utf8");
  return new Promise<string>((resolve, reject) => {
    let text = "";
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          finish();
          resolve(text);
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new Error("cancelled"));
          return;
        }
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    const finish = (): void => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
    };
    input.on("data", onData);
  });
}
