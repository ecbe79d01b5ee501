import type { Command, CommandGroup } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";
import { UsageError } from "../usage-error.ts";

const create: Command = {
  name: "create",
  summary: "create a group; prints its chat id",
  args: [{ name: "name", usage: "<name>" }],
  options: [
    {
      name: "members",
      type: "string",
      value: "<user,user,...>",
      required: true,
      summary: "the others to add, comma-separated",
    },
    PROFILE,
    JSON_OUTPUT,
  ],
  run: async (ctx) => {
    const members = ctx
      .string("members")!
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    if (members.length === 0) throw new UsageError("missing --members <user,user,...>");
    const chat = await withClient(ctx, (c) => c.createGroup(ctx.arg("name"), members));
    ctx.out(
      ctx.flag("json") ? jsonLine({ id: chat.id, name: chat.name, members: chat.members }) : esc(chat.id),
    );
    return 0;
  },
};

/** `group add` and `group remove`: the same but for the SDK call and the word printed. */
function membership(name: "add" | "remove"): Command {
  return {
    name,
    summary: `${name} a member ${name === "add" ? "to" : "from"} a group`,
    args: [
      { name: "chat", usage: "<chat-id>" },
      { name: "username", usage: "<username>" },
    ],
    options: [PROFILE, JSON_OUTPUT],
    run: async (ctx) => {
      const [chat, username] = [ctx.arg("chat"), ctx.arg("username")];
      await withClient(ctx, (c) =>
        name === "add" ? c.addMember(chat, username) : c.removeMember(chat, username),
      );
      ctx.out(
        ctx.flag("json")
          ? jsonLine({ ok: true })
          : `${name === "add" ? "added" : "removed"} ${esc(username)}`,
      );
      return 0;
    },
  };
}

export const groupCommand: CommandGroup = {
  name: "group",
  summary: "create groups and change their members",
  subcommands: [create, membership("add"), membership("remove")],
};
