import { join, resolve } from "node:path";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { Command, CommandContext } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { saveDownload } from "../downloads.ts";
import { messageJson, messageLine } from "../message-format.ts";
import { profileDir } from "../profile.ts";
import { progressBar } from "../progress-bar.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc } from "../terminal-escape.ts";

export const receiveCommand: Command = {
  name: "receive",
  summary:
    "messages that arrived since the last receive; attachments are saved to --download-dir (mode 0600)",
  args: [],
  options: [
    { name: "wait", type: "seconds", max: 86_400, default: 0, summary: "wait this long for a first message" },
    {
      name: "download-dir",
      type: "string",
      value: "<dir>",
      default: "<profile>/downloads",
      summary: "where attachments are saved",
    },
    PROFILE,
    JSON_OUTPUT,
  ],
  run: async (ctx) => {
    const downloadDir = resolve(ctx.string("download-dir") ?? join(profileDir(ctx), "downloads"));
    const json = ctx.flag("json");
    await withClient(ctx, async (client) => {
      const messages = await arrived(client, ctx.seconds("wait"));
      const chats = new Map((await client.chats()).map((c) => [c.id, c]));
      for (const m of messages) {
        const path = await download(ctx, client, m, downloadDir);
        const chat = chats.get(m.chat);
        if (json) ctx.out(messageJson(m, path));
        else ctx.out(messageLine(m, chat?.kind === "group" ? chat.name : undefined, path));
      }
      // Printed is read: disappearing timers start now, and senders see it read (unless switched off).
      for (const chat of new Set(messages.map((m) => m.chat))) await client.markRead(chat);
    });
    return 0;
  },
};

/** What arrived; if nothing has, what arrives within `waitS` seconds. */
async function arrived(client: SoriClient, waitS: number): Promise<ChatMessage[]> {
  const messages = await client.takeReceived();
  if (messages.length > 0 || waitS === 0) return messages;
  await new Promise<void>((done) => {
    const timer = setTimeout(finish, waitS * 1000);
    const off = client.on("message", (m) => {
      if (m.outgoing) return;
      clearTimeout(timer);
      // A short grace lets a burst that arrived together be printed together.
      setTimeout(finish, 200);
    });
    function finish(): void {
      off();
      done();
    }
  });
  return client.takeReceived();
}

/** Saves a message's attachment; null if it has none or it could not be fetched (said on stderr). */
async function download(
  ctx: CommandContext,
  client: SoriClient,
  m: ChatMessage,
  dir: string,
): Promise<string | null> {
  if (!m.file || m.deleted) return null;
  try {
    const bar = progressBar(ctx.io, m.file.name);
    const bytes = await client.downloadFile(m.chat, m.id, { onProgress: bar.update });
    bar.done();
    return saveDownload(dir, m.file.name, bytes);
  } catch (error) {
    ctx.err(`sori: could not download ${esc(m.file.name)}: ${esc((error as Error).message)}`);
    return null;
  }
}
