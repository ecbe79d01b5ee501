import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { escapeForTerminal as esc, jsonLine } from "./terminal-escape.ts";

/** A message as one `--json` line (the scripting contract's shape); `path` is where its file was saved. */
export function messageJson(m: ChatMessage, path?: string | null): string {
  return jsonLine({
    id: m.id,
    chat: m.chat,
    from: m.from,
    text: m.text,
    sentAt: new Date(m.sentAt).toISOString(),
    ...(m.call ? { call: m.call } : {}),
    ...(m.file ? { file: { name: m.file.name, size: m.file.size, path: path ?? null } } : {}),
  });
}

/** A call as one line of history. */
function callText(c: NonNullable<ChatMessage["call"]>): string {
  const kind = c.media === "video" ? "video call" : "voice call";
  if (c.missed) return `[missed ${kind}]`;
  if (c.outcome === "answered") {
    const mm = Math.floor(c.durationS / 60);
    const ss = String(c.durationS % 60).padStart(2, "0");
    return `[${c.direction} ${kind}, ${mm}:${ss}]`;
  }
  return `[${c.direction} ${kind}: ${c.outcome}]`;
}

/**
 * How a message reads for people (after its time and sender). Everything in it from the sender or the
 * server is escaped; its text keeps its line breaks as indented continuation lines.
 */
export function messageText(m: ChatMessage, path?: string | null): string {
  if (m.call) return esc(callText(m.call));
  if (m.deleted) return "(message deleted)";
  if (m.system?.event === "timer")
    return m.system.seconds > 0
      ? `(${esc(m.system.by)} set disappearing messages to ${m.system.seconds} s)`
      : `(${esc(m.system.by)} turned disappearing messages off)`;
  if (m.system?.event === "devices-changed") {
    const who = esc(m.system.username);
    return `(${who}'s devices changed: check the safety number with sori safety-number ${who})`;
  }
  // The saved path is escaped too: it is made of the sender's file name.
  const saved = path ? ` → ${esc(path)}` : "";
  const file = m.file ? `[file ${esc(m.file.name)}, ${m.file.size} bytes${saved}]` : "";
  const sticker = m.sticker ? `[sticker ${esc(m.sticker.pack)}/${esc(m.sticker.id)}]` : "";
  const text = esc(m.text, { multiline: true });
  return [file, sticker, text, m.edited ? "(edited)" : ""].filter(Boolean).join(" ");
}

/** A message as one line of `receive` or `history`; `chatName` is shown for group chats. */
export function messageLine(m: ChatMessage, chatName?: string, path?: string | null): string {
  const where = chatName === undefined ? "" : `[${esc(chatName)}] `;
  return `${new Date(m.sentAt).toISOString()} ${where}${esc(m.from)}: ${messageText(m, path)}`;
}

/** A chat as one line of `sori chats`. */
export function chatLine(c: ChatSummary): string {
  const when = c.lastMessageAt ? new Date(c.lastMessageAt).toISOString() : "-";
  const status = c.active ? "" : " (removed)";
  const members = c.members.map((m) => esc(m)).join(", ");
  return `${esc(c.id)}  ${c.kind === "group" ? "group" : "direct"}  ${esc(c.name)}${status}  members: ${members}  last: ${when}`;
}
