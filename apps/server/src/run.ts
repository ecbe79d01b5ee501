import { CONFIG_HELP, ConfigError, parseServerConfig } from "./config.ts";
import { startServer } from "./server.ts";

/**
 * `sori server` and `npm start`: parse flags, start, print "listening on URL" when ready, stop cleanly on
 * SIGINT/SIGTERM. Returns the process exit code on failure to start.
 */
export async function runServerCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`usage: sori server [options]\n${CONFIG_HELP}\n`);
    return 0;
  }
  let config: ReturnType<typeof parseServerConfig>;
  try {
    config = parseServerConfig(args);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sori server: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // Log lines go to stderr so stdout carries only the ready line, which scripts wait for.
  const { createLogger } = await import("./logger.ts");
  const log = createLogger(config.logLevel, (line) => process.stderr.write(line));
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, log);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === "EADDRINUSE"
        ? `port ${config.port} on ${config.host} is already in use`
        : error instanceof Error
          ? error.message
          : String(error);
    process.stderr.write(`sori server: cannot start: ${why}\n`);
    return 1;
  }
  process.stdout.write(`listening on ${server.url}\n`);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise<number>(() => undefined);
}
