import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkError } from "@sori/sdk";
import { commandsOf } from "./command-line.ts";
import { type Command, isGroup, isRaw, type TableEntry } from "./command.ts";
import { COMMANDS } from "./command-table.ts";
import { memoryIo } from "./memory-io.ts";
import { run } from "./run.ts";
import { synopsis } from "./usage.ts";

async function sori(
  argv: string[],
  table?: readonly TableEntry[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const m = memoryIo();
  const code = await run(argv, m.io, table);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

/** Every usage line the table should produce, as `sori --help` shows it. */
function synopses(): string[] {
  return COMMANDS.flatMap((e) => {
    if (isRaw(e)) return [`sori ${e.name} ${e.synopsis}`];
    if (!isGroup(e)) return [synopsis([e.name], e)];
    return [
      ...(e.default ? [synopsis([e.name], e.default)] : []),
      ...e.subcommands.map((c) => synopsis([e.name, c.name], c)),
    ];
  });
}

/** Usage text with its line wrapping undone, to look for whole synopses in it. */
const unwrapped = (text: string): string => text.replace(/\n +/g, " ");

describe("run(argv, io) without a server", () => {
  it("sori --help lists every command of the table with its usage and summary (exit 0)", async () => {
    for (const argv of [["--help"], ["help"], ["no-such-command", "--help"]]) {
      const r = await sori(argv);
      assert.equal(r.code, 0, argv.join(" "));
      const text = unwrapped(r.stdout);
      for (const line of synopses()) assert.ok(text.includes(line), `${argv.join(" ")} lists ${line}`);
      for (const c of commandsOf(COMMANDS)) assert.ok(text.includes(c.summary), c.summary);
    }
  });

  it("with no command, prints the same usage and exits 2", async () => {
    const r = await sori([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, (await sori(["--help"])).stdout);
  });

  it("sori <command> --help explains each of its options (exit 0)", async () => {
    for (const e of COMMANDS) {
      if (isRaw(e)) continue;
      const commands: [string[], Command][] = isGroup(e)
        ? e.subcommands.map((c) => [[e.name, c.name], c])
        : [[[e.name], e]];
      for (const [path, c] of commands) {
        const r = await sori([...path, "--help"]);
        assert.equal(r.code, 0);
        assert.ok(unwrapped(r.stdout).includes(`usage: ${synopsis(path, c)}`), path.join(" "));
        for (const o of c.options)
          assert.match(r.stdout, new RegExp(`^  --${o.name}\\b`, "m"), `${path} --${o.name}`);
      }
    }
    const group = await sori(["group", "--help"]);
    assert.match(group.stdout, /sori group create <name> --members/);
  });

  it("usage errors exit 2 with the reason and the command's usage on stderr, nothing on stdout", async () => {
    const unknown = await sori(["chats", "--bogus", "1"]);
    assert.deepEqual(
      [unknown.code, unknown.stdout, unknown.stderr],
      [2, "", "sori: unknown option --bogus\nusage: sori chats [--json]\n"],
    );
    const missing = await sori(["send"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^sori: missing <username\|chat-id>\nusage: sori send /);
    const group = await sori(["group"]);
    assert.equal(group.code, 2);
    assert.match(
      group.stderr,
      /^sori: missing group subcommand \(create, add, remove\)\nusage: sori group create/,
    );
    assert.equal((await sori(["frobnicate"])).code, 2);
    assert.equal((await sori(["receive", "--wait", "-1"])).code, 2);
    assert.equal((await sori(["--json=yes"])).code, 2);
  });

  it("failures exit 1 with the reason on stderr; an unreachable server gets a hint", async () => {
    const failing = (error: Error): TableEntry => ({
      name: "fail",
      summary: "fails",
      args: [],
      options: [],
      run: async () => {
        throw error;
      },
    });
    const offline = await sori(["fail"], [failing(new SdkError("offline", "cannot reach the server"))]);
    assert.deepEqual(
      [offline.code, offline.stderr],
      [1, "sori: cannot reach the server (is the server running?)\n"],
    );
    const other = await sori(["fail"], [failing(new Error("disk on fire"))]);
    assert.deepEqual([other.code, other.stderr], [1, "sori: disk on fire\n"]);
  });
});
