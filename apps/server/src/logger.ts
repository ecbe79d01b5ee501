/** Structured JSON-lines logging. Callers pass event names and ids only: never content, keys or tokens. */
type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export type Logger = {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
};

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing one JSON object per line to `write` (stdout by default). */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const min = ORDER[level];
  const log =
    (lvl: LogLevel) =>
    (event: string, fields: LogFields = {}): void => {
      if (ORDER[lvl] < min) return;
      write(`${JSON.stringify({ ts: new Date().toISOString(), level: lvl, event, ...fields })}\n`);
    };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
