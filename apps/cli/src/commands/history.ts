import type { Command } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { findChat } from "../find-chat.ts";
import { messageJson, messageLine } from "../message-format.ts";
import { withClient } from "../session.ts";

export const historyCommand: Command = {
  name: "history",
  summary: "the local history of one chat",
  args: [{ name: "target", usage: "<chat-id|username>" }],
  options: [
    {
      name: "limit",
      type: "string",
      value: "<n>",
      summary: "accepted, not applied yet: the whole local history is printed",
    },
    PROFILE,
    JSON_OUTPUT,
  ],
  run: async (ctx) => {
    const json = ctx.flag("json");
    const messages = await withClient(ctx, async (c) => c.history((await findChat(c, ctx.arg("target"))).id));
    for (const m of messages) ctx.out(json ? messageJson(m) : messageLine(m));
    return 0;
  },
};
