/** Parsed command line: positionals and `--flag value` / `--flag=value` / boolean `--flag` options. */
export type ParsedArgs = { positionals: string[]; options: Map<string, string | true> };

export class UsageError extends Error {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses argv; `booleans` are flags that take no value. A lone `--` ends option parsing. */
export function parseArgs(argv: string[], booleans: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (booleans.has(name)) {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        options.set(name, true);
        continue;
      }
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else {
      positionals.push(arg);
    }
  }
  return { positionals, options };
}

/** The string value of an option, or undefined. */
export function option(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === "string" ? v : undefined;
}

/** Fails on options a command does not know, so typos do not pass silently. */
export function allowOptions(args: ParsedArgs, allowed: string[]): void {
  for (const name of args.options.keys()) {
    if (!allowed.includes(name)) throw new UsageError(`unknown option --${name}`);
  }
}
