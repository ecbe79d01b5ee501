import type { Command } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { readPassword } from "../password-prompt.ts";
import { withClient } from "../session.ts";
import { jsonLine } from "../terminal-escape.ts";

export const passwordCommand: Command = {
  name: "password",
  summary: "change the account's password; every other device is signed out (link them again)",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  notes: ["The current password comes from SORI_PASSWORD, the new one from SORI_NEW_PASSWORD, else prompts."],
  run: async (ctx) => {
    const current = await readPassword(ctx.io, "current password: ");
    const next = await readPassword(ctx.io, "new password: ", "SORI_NEW_PASSWORD");
    await withClient(ctx, (c) => c.changePassword(current, next));
    ctx.out(
      ctx.flag("json") ? jsonLine({ ok: true }) : "password changed; every other device was signed out",
    );
    return 0;
  },
};
