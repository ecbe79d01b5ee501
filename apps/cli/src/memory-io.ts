import type { CliIo } from "./cli-io.ts";

export type MemoryIoOptions = {
  env?: Record<string, string | undefined>;
  /** Lines stdin holds, read by readLine (when not a terminal) or answered to prompts (when one). */
  stdin?: string[];
  stdinIsTty?: boolean;
  stderrIsTty?: boolean;
  /** How far apart the lines reach an onLine handler, the first too (0: one per turn of the event loop). */
  lineDelayMs?: number;
};

/** A CliIo in memory, for running `sori` in-process: what was written, and a way to send Ctrl-C. */
export type MemoryIo = {
  io: CliIo;
  stdout(): string;
  stderr(): string;
  /** Runs the handlers a command registered for Ctrl-C. */
  interrupt(): void;
};

export function memoryIo(options: MemoryIoOptions = {}): MemoryIo {
  let out = "";
  let err = "";
  const lines = [...(options.stdin ?? [])];
  const handlers = new Set<() => void>();
  const answer = async (): Promise<string> => lines.shift() ?? "";
  const io: CliIo = {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    stdinIsTty: options.stdinIsTty ?? false,
    stderrIsTty: options.stderrIsTty ?? false,
    env: options.env ?? {},
    homeDir: "/nonexistent-home",
    hostname: "test-host",
    promptHidden: async (prompt) => {
      err += `${prompt}\n`;
      return answer();
    },
    ask: async (question) => {
      err += question;
      return answer();
    },
    readLine: answer,
    // The lines left, `lineDelayMs` apart, as if typed once the command listens.
    onLine: (handler) => {
      let on = true;
      const delay = options.lineDelayMs ?? 0;
      const feed = (): void => {
        const line = on ? lines.shift() : undefined;
        if (line === undefined) return;
        handler(line);
        setTimeout(feed, delay);
      };
      setTimeout(feed, delay);
      return () => {
        on = false;
      };
    },
    onInterrupt: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    exitSoon: () => undefined,
  };
  return {
    io,
    stdout: () => out,
    stderr: () => err,
    interrupt: () => {
      for (const h of [...handlers]) h();
    },
  };
}
