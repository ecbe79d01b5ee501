import { SdkError } from "@sori/sdk";
import type { CliIo } from "./cli-io.ts";
import {
  bindContext,
  helpTopic,
  optionKinds,
  type Resolved,
  resolveCommand,
  tokenize,
} from "./command-line.ts";
import { isRaw, type TableEntry } from "./command.ts";
import { COMMANDS } from "./command-table.ts";
import { groupUsage, helpFor, overview, usageLine } from "./usage.ts";
import { escapeForTerminal } from "./terminal-escape.ts";
import { UsageError } from "./usage-error.ts";

/**
 * Runs one `sori` command line and resolves to its exit code: 0 success, 1 failure (the reason on
 * stderr), 2 usage error. Never throws, so it can be called in-process with a test's CliIo.
 */
export async function run(
  argv: string[],
  io: CliIo,
  table: readonly TableEntry[] = COMMANDS,
): Promise<number> {
  let resolved: Resolved | undefined;
  let words: string[] = [];
  try {
    const raw = table.filter(isRaw).find((e) => e.name === argv[0]);
    if (raw) return await raw.runRaw(argv.slice(1), io);
    const tokens = tokenize(argv, optionKinds(table));
    const topic = helpTopic(tokens);
    if (topic) {
      io.stdout(helpFor(table, topic));
      return 0;
    }
    if (tokens.positionals.length === 0) {
      io.stdout(overview(table));
      return 2;
    }
    words = tokens.positionals;
    resolved = resolveCommand(table, words);
    return await resolved.command.run(bindContext(resolved, tokens, io));
  } catch (error) {
    // Messages quote the server, other people's names and the command line itself.
    const message = escapeForTerminal(error instanceof Error ? error.message : String(error));
    if (error instanceof UsageError) {
      const usage = resolved ? usageLine(resolved.path, resolved.command) : groupUsage(table, words);
      io.stderr(`sori: ${message}\n${usage ? `${usage}\n` : ""}`);
      return 2;
    }
    const hint = error instanceof SdkError && error.code === "offline" ? " (is the server running?)" : "";
    io.stderr(`sori: ${message}${hint}\n`);
    return 1;
  }
}
