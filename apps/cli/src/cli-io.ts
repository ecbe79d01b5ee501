/**
 * Everything a `sori` command touches outside itself, so `run(argv, io)` works in-process: the real
 * process's streams and terminal (process-io.ts), or memory in tests (memory-io.ts).
 */
export type CliIo = {
  /** Writes to standard output as is (callers end their lines). */
  stdout(text: string): void;
  /** Writes to standard error as is. */
  stderr(text: string): void;
  /** Whether stdin is a terminal: passwords and questions are asked there only. */
  stdinIsTty: boolean;
  /** Whether stderr is a terminal: the progress bar is drawn there only. */
  stderrIsTty: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory (for the default profile ~/.sori). */
  homeDir: string;
  /** This machine's name (for the default device name cli@<host>). */
  hostname: string;
  /** Asks on the terminal without echoing the answer (passwords, passphrases). */
  promptHidden(prompt: string): Promise<string>;
  /** Asks on the terminal; resolves "" if `signal` aborts first. */
  ask(question: string, signal: AbortSignal): Promise<string>;
  /** The first line of stdin when it is not a terminal ("" at its end). */
  readLine(): Promise<string>;
  /** Calls `handler` with each line typed on the terminal until the returned function is called. */
  onLine(handler: (line: string) => void): () => void;
  /** Calls `handler` on Ctrl-C or SIGTERM until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  /**
   * The command is over but a library may still hold the event loop (werift keeps DTLS timers for
   * ~30 s): the real process exits shortly; in-process callers are not affected.
   */
  exitSoon(): void;
};

/** Resolves at the first Ctrl-C (SIGINT/SIGTERM): for commands that run until stopped. */
export function untilInterrupted(io: CliIo): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = io.onInterrupt(() => {
      stop();
      resolve();
    });
  });
}
