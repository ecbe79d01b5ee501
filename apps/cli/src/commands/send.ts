import { readFileSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { messageJson } from "../message-format.ts";
import { mimeOf } from "../mime.ts";
import { progressBar } from "../progress-bar.ts";
import { withClient } from "../session.ts";
import { UsageError } from "../usage-error.ts";

export const sendCommand: Command = {
  name: "send",
  summary:
    "send a message (a direct chat is created if needed); with --file, an encrypted attachment with <text> as its caption",
  args: [
    { name: "target", usage: "<username|chat-id>" },
    { name: "text", usage: "<text>", optional: true, rest: true },
  ],
  options: [
    {
      name: "file",
      type: "string",
      value: "<path>",
      summary: "the file to send (a progress bar on stderr when it is a terminal)",
    },
    PROFILE,
    JSON_OUTPUT,
  ],
  run: async (ctx) => {
    const target = ctx.arg("target");
    const text = ctx.arg("text");
    const json = ctx.flag("json");
    const filePath = ctx.string("file");
    if (filePath === undefined) {
      if (!text) throw new UsageError("missing <text>");
      const m = await withClient(ctx, (c) => c.sendText(target, text));
      if (json) ctx.out(messageJson(m));
      return 0;
    }
    let bytes: Uint8Array;
    try {
      if (!statSync(filePath).isFile()) throw new Error("not a file");
      bytes = readFileSync(filePath);
    } catch {
      throw new UsageError(`--file: cannot read "${filePath}"`);
    }
    const name = basename(filePath);
    const bar = progressBar(ctx.io, name);
    const m = await withClient(ctx, (c) =>
      c.sendFile(target, { name, mime: mimeOf(filePath), bytes }, { caption: text, onProgress: bar.update }),
    );
    bar.done();
    if (json) ctx.out(messageJson(m, resolve(filePath)));
    return 0;
  },
};
