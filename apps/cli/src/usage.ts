import {
  type Command,
  type CommandGroup,
  isGroup,
  isRaw,
  type OptionSpec,
  type TableEntry,
} from "./command.ts";
import { GLOBAL_OPTIONS } from "./common-options.ts";

const WIDTH = 104;
/** Where summaries start when the synopsis fits before them. */
const COLUMN = 46;

const HEADER = "sori — end-to-end encrypted messenger (CLI)";
/** The scripting contract, which no single command owns. */
const OVERVIEW_NOTES = [
  'With --json a message is {"id","chat","from","text","sentAt"}, plus "file":{"name","size","path"} for an attachment (path null in history).',
  "Exit codes: 0 success, 1 failure (the reason on stderr), 2 usage error.",
];
const FOOTER = "sori <command> --help (or sori help <command>) shows a command's options.";

/** `sori --help`: every command of the table, then the options all of them take. */
export function overview(table: readonly TableEntry[]): string {
  return [
    HEADER,
    "",
    "usage:",
    ...table.flatMap((e) => entryRows(e)),
    "",
    "global options:",
    ...optionRows(GLOBAL_OPTIONS),
    "",
    ...OVERVIEW_NOTES.flatMap((n) => wrap(n, "", 0)),
    "",
    FOOTER,
    "",
  ].join("\n");
}

/** `sori <words> --help`: the entry the words name (the overview if they name none). */
export function helpFor(table: readonly TableEntry[], words: string[]): string {
  const entry = table.find((e) => e.name === words[0]);
  if (!entry) return overview(table);
  if (isRaw(entry)) return `usage: sori ${entry.name} ${entry.synopsis}\n\n${entry.summary}\n`;
  if (isGroup(entry)) {
    const sub = entry.subcommands.find((c) => c.name === words[1]);
    if (!sub)
      return [`sori ${entry.name}: ${entry.summary}`, "", "usage:", ...entryRows(entry), "", FOOTER, ""].join(
        "\n",
      );
    return commandHelp([entry.name, sub.name], sub);
  }
  return commandHelp([entry.name], entry);
}

/** The usage line(s) a usage error of this command ends with. */
export function usageLine(path: string[], command: Command): string {
  return wrap(synopsis(path, command), "usage: ", 7).join("\n");
}

/** For a usage error before a command was picked: the usage of the group `words` start with, if any. */
export function groupUsage(table: readonly TableEntry[], words: string[]): string | undefined {
  const entry = table.find((e) => e.name === words[0]);
  if (!entry || !isGroup(entry)) return undefined;
  const commands: [string[], Command][] = entry.subcommands.map((c) => [[entry.name, c.name], c]);
  if (entry.default) commands.unshift([[entry.name], entry.default]);
  return commands
    .map(([path, c], i) => wrap(synopsis(path, c), i === 0 ? "usage: " : "       ", 7).join("\n"))
    .join("\n");
}

function commandHelp(path: string[], command: Command): string {
  return [
    usageLine(path, command),
    "",
    ...wrap(command.summary, "", 0),
    "",
    "options:",
    ...optionRows(command.options),
    ...(command.notes?.length ? ["", ...command.notes] : []),
    "",
  ].join("\n");
}

/** `sori send <username|chat-id> [<text>...] [--file <path>] [--json]`: the global --profile is left out. */
export function synopsis(path: string[], command: Command): string {
  const args = command.args.map((a) => {
    const word = a.rest ? `${a.usage}...` : a.usage;
    return a.optional ? `[${word}]` : word;
  });
  const options = command.options
    .filter((o) => o.name !== "profile" && o.name !== "json")
    .map((o) => {
      const word = o.type === "flag" ? `--${o.name}` : `--${o.name} ${valueOf(o)}`;
      return o.type === "string" && o.required ? word : `[${word}]`;
    });
  const json = command.options.some((o) => o.name === "json") ? ["[--json]"] : [];
  return ["sori", ...path, ...args, ...options, ...json].join(" ");
}

function entryRows(entry: TableEntry): string[] {
  if (isRaw(entry)) return row(`sori ${entry.name} ${entry.synopsis}`, entry.summary);
  if (isGroup(entry)) return groupRows(entry);
  return row(synopsis([entry.name], entry), entry.summary);
}

function groupRows(group: CommandGroup): string[] {
  const rows = group.default ? row(synopsis([group.name], group.default), group.default.summary) : [];
  for (const c of group.subcommands) rows.push(...row(synopsis([group.name, c.name], c), c.summary));
  return rows;
}

function optionRows(options: readonly OptionSpec[]): string[] {
  return options.flatMap((o) => {
    const word = o.type === "flag" ? `--${o.name}` : `--${o.name} ${valueOf(o)}`;
    return row(word, describe(o), 2, 22);
  });
}

function valueOf(o: OptionSpec): string {
  return o.type === "string" ? o.value : o.type === "seconds" ? "<s>" : "";
}

function describe(o: OptionSpec): string {
  if (o.type === "seconds") return `${o.summary} (seconds, 0 to ${o.max}; default ${o.default})`;
  if (o.type === "flag") return o.summary;
  const from = [o.env && `$${o.env}`, o.default].filter(Boolean).join(" or ");
  const required = o.required ? "required" : "";
  const extra = [required, from && `default ${from}`].filter(Boolean).join("; ");
  return extra ? `${o.summary} (${extra})` : o.summary;
}

/** A synopsis and its summary: side by side when the synopsis is short, else the summary below it. */
function row(left: string, text: string, indent = 2, column = COLUMN): string[] {
  const head = " ".repeat(indent) + left;
  if (head.length < column - 1) return wrap(text, head.padEnd(column), column);
  return [...wrap(left, " ".repeat(indent), indent + 4), ...wrap(text, " ".repeat(column), column)];
}

/** Word-wraps `text` to WIDTH columns: the first line starts with `first`, the others with `indent` spaces. */
function wrap(text: string, first: string, indent: number): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/ +/)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = " ".repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}
