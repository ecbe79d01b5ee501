import type { Contact, SoriClient } from "@sori/sdk";
import type { Command, CommandContext, CommandGroup } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { contactText } from "../message-format.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";

const USER = { name: "username", usage: "<username>" } as const;

/** A relation as one `--json` line: the SDK's contact, its time as ISO 8601 like a message's. */
function contactJson(c: Contact): string {
  return jsonLine({ ...c, at: new Date(c.at).toISOString() });
}

const list: Command = {
  name: "list",
  summary: "people you asked, who asked you, and your contacts",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const contacts = await withClient(ctx, (c) => c.contacts.list());
    for (const c of contacts)
      ctx.out(
        ctx.flag("json")
          ? contactJson(c)
          : `${esc(c.username)}  ${c.state}  ${contactText(c)}  since ${new Date(c.at).toISOString()}`,
      );
    if (!ctx.flag("json") && contacts.length === 0)
      ctx.out("no contacts yet: sori contacts request <username> asks someone");
    return 0;
  },
};

/** A subcommand that does one thing to one person and prints where things stand then. */
function step(
  name: string,
  summary: string,
  act: (client: SoriClient, username: string) => Promise<Contact>,
): Command {
  return {
    name,
    summary,
    args: [USER],
    options: [PROFILE, JSON_OUTPUT],
    run: async (ctx: CommandContext) => {
      const c = await withClient(ctx, (client) => act(client, ctx.arg("username")));
      ctx.out(ctx.flag("json") ? contactJson(c) : contactText(c));
      return 0;
    },
  };
}

const remove: Command = {
  name: "remove",
  summary: "take back your request, end a contact, or decline theirs",
  args: [USER],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const username = ctx.arg("username");
    await withClient(ctx, (c) => c.contacts.remove(username));
    ctx.out(ctx.flag("json") ? jsonLine({ ok: true }) : `removed ${esc(username)}`);
    return 0;
  },
};

export const contactsCommand: CommandGroup = {
  name: "contacts",
  summary: "contact requests and contacts",
  subcommands: [
    step("request", "ask someone to be your contact (a direct chat is created if needed)", (c, u) =>
      c.contacts.request(u),
    ),
    step("accept", "accept someone's contact request", (c, u) => c.contacts.accept(u)),
    step("decline", "decline someone's contact request (they may ask again)", (c, u) =>
      c.contacts.decline(u),
    ),
    remove,
  ],
  default: list,
};
