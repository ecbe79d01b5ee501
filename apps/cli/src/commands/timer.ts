import type { Command } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { findChat } from "../find-chat.ts";
import { withClient } from "../session.ts";
import { jsonLine } from "../terminal-escape.ts";
import { UsageError } from "../usage-error.ts";

const MAX_S = 604_800;

export const timerCommand: Command = {
  name: "timer",
  summary: "disappearing-message timer for the chat (seconds after reading, 1 to 604800)",
  args: [
    { name: "target", usage: "<chat-id|username>" },
    { name: "value", usage: "<seconds|off>" },
  ],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const value = ctx.arg("value");
    const seconds = value === "off" ? 0 : Number(value);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_S)
      throw new UsageError(`the timer is "off" or 1 to ${MAX_S} seconds, got "${value}"`);
    await withClient(ctx, async (c) => c.setTimer((await findChat(c, ctx.arg("target"))).id, seconds));
    ctx.out(
      ctx.flag("json")
        ? jsonLine({ ok: true, seconds })
        : seconds > 0
          ? `messages now disappear ${seconds} s after reading`
          : "disappearing messages off",
    );
    return 0;
  },
};
