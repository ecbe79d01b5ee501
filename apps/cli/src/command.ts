import type { CliIo } from "./cli-io.ts";

/** `--video`: takes no value. */
export type FlagOption = { name: string; type: "flag"; summary: string };

/** `--server <url>`: takes a value. */
export type StringOption = {
  name: string;
  type: "string";
  /** The value as usage shows it, e.g. "<url>". */
  value: string;
  summary: string;
  /** Where the value comes from when the option is not given. */
  env?: string;
  /** Given neither as an option nor by `env`, it is a usage error. */
  required?: boolean;
  /** What help says is used when it is absent; the command computes that value (from the profile, host…). */
  default?: string;
};

/** `--wait <s>`: a number of seconds from 0 to `max`. */
type SecondsOption = {
  name: string;
  type: "seconds";
  max: number;
  default: number;
  summary: string;
};

export type OptionSpec = FlagOption | StringOption | SecondsOption;

/** A positional argument. */
type ArgSpec = {
  name: string;
  /** As usage and "missing …" errors show it, e.g. "<username|chat-id>". */
  usage: string;
  optional?: boolean;
  /** Takes every remaining word, joined with spaces (must come last). */
  rest?: boolean;
};

/** What a command's run() gets: its io, its parsed arguments, and line writers. */
export type CommandContext = {
  io: CliIo;
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** A positional argument ("" when an optional one is absent). */
  arg(name: string): string;
  flag(name: string): boolean;
  /** A string option's value (from the command line or its env variable), if any. */
  string(name: string): string | undefined;
  /** A seconds option's value (its default when not given). */
  seconds(name: string): number;
};

/** One `sori` command: what usage and the parser know of it, and what it does. */
export type Command = {
  name: string;
  summary: string;
  args: readonly ArgSpec[];
  options: readonly OptionSpec[];
  /** Further lines for `sori <command> --help`. */
  notes?: readonly string[];
  /** Resolves to the exit code; throws UsageError (2) or another error (1, its message on stderr). */
  run(ctx: CommandContext): Promise<number>;
};

/** `sori group create …`: a word that picks one of its subcommands. */
export type CommandGroup = {
  name: string;
  summary: string;
  subcommands: readonly Command[];
  /** Runs when the next word names no subcommand (`sori devices` lists devices); else that is an error. */
  default?: Command;
};

/** A command that parses its own arguments (`sori server`, the server's options). */
export type RawCommand = {
  name: string;
  summary: string;
  /** Usage after `sori <name>`. */
  synopsis: string;
  runRaw(argv: string[], io: CliIo): Promise<number>;
};

export type TableEntry = Command | CommandGroup | RawCommand;

export function isGroup(entry: TableEntry): entry is CommandGroup {
  return "subcommands" in entry;
}

export function isRaw(entry: TableEntry): entry is RawCommand {
  return "runRaw" in entry;
}
