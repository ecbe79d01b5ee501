import type { Command } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { chatLine } from "../message-format.ts";
import { withClient } from "../session.ts";
import { jsonLine } from "../terminal-escape.ts";

export const chatsCommand: Command = {
  name: "chats",
  summary: "list chats",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const json = ctx.flag("json");
    const chats = await withClient(ctx, (c) => c.chats());
    for (const c of chats) ctx.out(json ? jsonLine(c) : chatLine(c));
    if (!json && chats.length === 0) ctx.out("no chats yet: sori send <username> <text> starts one");
    return 0;
  },
};
