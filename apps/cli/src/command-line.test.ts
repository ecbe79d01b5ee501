import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bindContext, commandsOf, optionKinds, resolveCommand, tokenize } from "./command-line.ts";
import type { Command, TableEntry } from "./command.ts";
import { COMMANDS } from "./command-table.ts";
import { memoryIo } from "./memory-io.ts";
import { UsageError } from "./usage-error.ts";

const noop = async (): Promise<number> => 0;

const wait: Command = {
  name: "wait",
  summary: "waits",
  args: [
    { name: "who", usage: "<who>" },
    { name: "words", usage: "<words>", optional: true, rest: true },
  ],
  options: [
    { name: "quiet", type: "flag", summary: "" },
    { name: "for", type: "seconds", max: 60, default: 5, summary: "" },
    { name: "server", type: "string", value: "<url>", env: "TEST_SERVER", required: true, summary: "" },
    { name: "note", type: "string", value: "<text>", summary: "" },
  ],
  run: noop,
};
const sub = (name: string): Command => ({ name, summary: name, args: [], options: [], run: noop });
const TABLE: TableEntry[] = [
  wait,
  { name: "pets", summary: "pets", subcommands: [sub("feed"), sub("walk")] },
  { name: "list", summary: "lists", subcommands: [sub("clear")], default: sub("all") },
];
const KINDS = optionKinds(TABLE);

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && message.test(e.message));
}

/** Parses and binds `argv` against TABLE, as run() does. */
function bind(argv: string[], env: Record<string, string> = {}): ReturnType<typeof bindContext> {
  const tokens = tokenize(argv, KINDS);
  return bindContext(resolveCommand(TABLE, tokens.positionals), tokens, memoryIo({ env }).io);
}

describe("the command line parser", () => {
  it("splits words and options as --name value, --name=value and flags; -- ends options", () => {
    const t = tokenize(["--note", "a b", "wait", "--quiet", "--for=3", "x", "--", "--quiet"], KINDS);
    assert.deepEqual(t.positionals, ["wait", "x", "--quiet"]);
    assert.deepEqual(
      [...t.options],
      [
        ["note", "a b"],
        ["quiet", true],
        ["for", "3"],
      ],
    );
    usageError(() => tokenize(["--quiet=yes"], KINDS), /^--quiet takes no value$/);
    usageError(() => tokenize(["wait", "--note"], KINDS), /^--note needs a value$/);
  });

  it("refuses unknown commands, options and subcommands, and missing arguments (usage errors)", () => {
    usageError(() => resolveCommand(TABLE, ["nope"]), /^unknown command "nope"/);
    usageError(() => bind(["wait", "me", "--server", "u", "--bogus", "1"]), /^unknown option --bogus$/);
    // An option of another command is unknown to this one.
    usageError(() => bind(["pets", "feed", "--quiet"]), /^unknown option --quiet$/);
    usageError(() => bind(["wait", "--server", "u"]), /^missing <who>$/);
    usageError(() => bind(["wait", "", "--server", "u"]), /^missing <who>$/);
    usageError(() => bind(["wait", "me"]), /^missing --server <url> \(or \$TEST_SERVER\)$/);
    usageError(
      () => bind(["wait", "me", "--server", "u", "--for", "61"]),
      /--for takes seconds from 0 to 60/,
    );
    usageError(() => bind(["wait", "me", "--server", "u", "--for", "soon"]), /got "soon"/);
    usageError(() => bind(["pets"]), /^missing pets subcommand \(feed, walk\)$/);
    usageError(() => bind(["pets", "pat"]), /^unknown pets subcommand "pat"$/);
  });

  it("gives the command its values: defaults, env fallbacks, rest words", () => {
    const ctx = bind(["wait", "me", "two", "words", "--quiet"], { TEST_SERVER: "http://s" });
    assert.equal(ctx.arg("who"), "me");
    assert.equal(ctx.arg("words"), "two words");
    assert.equal(ctx.flag("quiet"), true);
    assert.equal(ctx.seconds("for"), 5);
    assert.equal(ctx.string("server"), "http://s");
    assert.equal(ctx.string("note"), undefined);
    const given = bind(["wait", "me", "--server", "http://t", "--for", "7"], { TEST_SERVER: "http://s" });
    assert.deepEqual([given.string("server"), given.seconds("for"), given.arg("words")], ["http://t", 7, ""]);
    // Reading what the command does not declare is a bug in the command, not a usage error.
    assert.throws(
      () => ctx.flag("note"),
      (e: unknown) => !(e instanceof UsageError),
    );
    assert.throws(
      () => ctx.arg("whom"),
      (e: unknown) => !(e instanceof UsageError),
    );
  });

  it("picks subcommands, and a group's default when no subcommand word follows", () => {
    assert.deepEqual(resolveCommand(TABLE, ["pets", "walk", "x"]).path, ["pets", "walk"]);
    const all = resolveCommand(TABLE, ["list", "extra"]);
    assert.deepEqual([all.command.name, all.args], ["all", ["extra"]]);
    assert.equal(resolveCommand(TABLE, ["list", "clear"]).command.name, "clear");
  });

  it("refuses a table where one option name is a flag in one command and takes a value in another", () => {
    const other: Command = {
      ...sub("other"),
      options: [{ name: "quiet", type: "seconds", max: 1, default: 0, summary: "" }],
    };
    assert.throws(() => optionKinds([wait, other]), /--quiet/);
  });

  it("the real table is consistent: every option has one kind, names are unique", () => {
    assert.doesNotThrow(() => optionKinds(COMMANDS));
    const names = COMMANDS.map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
    for (const c of commandsOf(COMMANDS)) {
      const options = c.options.map((o) => o.name);
      assert.equal(new Set(options).size, options.length, c.name);
      assert.ok(
        c.args.every((a, i) => !a.rest || i === c.args.length - 1),
        `${c.name}: rest comes last`,
      );
    }
  });
});
