import type { CliIo } from "./cli-io.ts";
import { type Command, type CommandContext, isGroup, isRaw, type TableEntry } from "./command.ts";
import { UsageError } from "./usage-error.ts";

/** A command line split into words and `--name value` / `--name=value` / `--flag` options. */
export type Tokens = { positionals: string[]; options: Map<string, string | true> };

/** A table entry a command line names, with the words that name it (`["group", "create"]`). */
export type Resolved = { path: string[]; command: Command; args: string[] };

/** `--help` or `sori help …`: the words after it name what to explain (none: everything). */
const HELP = "help";

/**
 * Which options take a value, over the whole table: words are split before the command is known, so
 * `sori --profile x send …` works. A name that is a flag in one command and valued in another would
 * make that split ambiguous, so it is refused.
 */
export function optionKinds(table: readonly TableEntry[]): Map<string, "flag" | "value"> {
  const kinds = new Map<string, "flag" | "value">([[HELP, "flag"]]);
  for (const command of commandsOf(table)) {
    for (const o of command.options) {
      const kind = o.type === "flag" ? "flag" : "value";
      const known = kinds.get(o.name);
      if (known && known !== kind) throw new Error(`option --${o.name} is a flag in one command only`);
      kinds.set(o.name, kind);
    }
  }
  return kinds;
}

/** Every runnable command in the table, subcommands included. */
export function commandsOf(table: readonly TableEntry[]): Command[] {
  return table.flatMap((e) =>
    isRaw(e) ? [] : isGroup(e) ? [...e.subcommands, ...(e.default ? [e.default] : [])] : [e],
  );
}

/** Splits argv. A lone `--` ends options; an unknown option takes a value (it is refused later). */
export function tokenize(argv: string[], kinds: ReadonlyMap<string, "flag" | "value">): Tokens {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith("--") || word.length === 2) {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const name = eq > 0 ? word.slice(2, eq) : word.slice(2);
    if (kinds.get(name) === "flag") {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      options.set(name, true);
      continue;
    }
    const value = eq > 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { positionals, options };
}

/** Whether the command line asks for help: `--help` anywhere, or the word `help` first. */
export function helpTopic(tokens: Tokens): string[] | undefined {
  if (tokens.positionals[0] === HELP) return tokens.positionals.slice(1);
  return tokens.options.has(HELP) ? tokens.positionals : undefined;
}

/** The table entry the first words name, and the words after them. */
export function resolveCommand(table: readonly TableEntry[], positionals: string[]): Resolved {
  const [name, sub] = positionals;
  const entry = table.find((e) => e.name === name);
  if (!entry) throw new UsageError(`unknown command "${name}" (see sori --help)`);
  if (isRaw(entry))
    throw new UsageError(`"${entry.name}" must come first: sori ${entry.name} ${entry.synopsis}`);
  if (!isGroup(entry)) return { path: [entry.name], command: entry, args: positionals.slice(1) };
  const picked = entry.subcommands.find((c) => c.name === sub);
  if (picked) return { path: [entry.name, picked.name], command: picked, args: positionals.slice(2) };
  if (entry.default) return { path: [entry.name], command: entry.default, args: positionals.slice(1) };
  const names = entry.subcommands.map((c) => c.name).join(", ");
  if (!sub) throw new UsageError(`missing ${entry.name} subcommand (${names})`);
  throw new UsageError(`unknown ${entry.name} subcommand "${sub}"`);
}

/**
 * Checks the words and options against the command's table entry (unknown options, missing
 * arguments and required options, seconds out of range) and gives the command its view of them.
 */
export function bindContext(resolved: Resolved, tokens: Tokens, io: CliIo): CommandContext {
  const { command, args } = resolved;
  const specs = new Map(command.options.map((o) => [o.name, o]));
  for (const name of tokens.options.keys()) {
    if (!specs.has(name)) throw new UsageError(`unknown option --${name}`);
  }
  const values = new Map<string, string>();
  command.args.forEach((spec, i) => {
    const value = spec.rest ? args.slice(i).join(" ") : (args[i] ?? "");
    if (!spec.optional && value === "") throw new UsageError(`missing ${spec.usage}`);
    values.set(spec.name, value);
  });
  const strings = new Map<string, string>();
  const seconds = new Map<string, number>();
  for (const spec of command.options) {
    const given = tokens.options.get(spec.name);
    if (spec.type === "string") {
      const value = typeof given === "string" ? given : spec.env ? io.env[spec.env] : undefined;
      if (spec.required && !value)
        throw new UsageError(`missing --${spec.name} ${spec.value}${spec.env ? ` (or $${spec.env})` : ""}`);
      if (value !== undefined) strings.set(spec.name, value);
    } else if (spec.type === "seconds") {
      const v = typeof given === "string" ? Number(given) : spec.default;
      if (!Number.isFinite(v) || v < 0 || v > spec.max)
        throw new UsageError(`--${spec.name} takes seconds from 0 to ${spec.max}, got "${String(given)}"`);
      seconds.set(spec.name, v);
    }
  }
  // Asking for what the command does not declare is a bug in the command, not in the command line.
  const declared = (name: string, type: string): void => {
    if (specs.get(name)?.type !== type)
      throw new Error(`sori ${resolved.path.join(" ")}: no ${type} --${name}`);
  };
  return {
    io,
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
    arg: (name) => {
      const v = values.get(name);
      if (v === undefined) throw new Error(`sori ${resolved.path.join(" ")}: no argument ${name}`);
      return v;
    },
    flag: (name) => {
      declared(name, "flag");
      return tokens.options.has(name);
    },
    string: (name) => {
      declared(name, "string");
      return strings.get(name);
    },
    seconds: (name) => {
      declared(name, "seconds");
      return seconds.get(name)!;
    },
  };
}
