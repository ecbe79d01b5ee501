import type { ChatMessage, ChatSummary } from "@sori/sdk";

/** A message as one `--json` line (the scripting contract's shape); `path` is where its file was saved. */
export function messageJson(m: ChatMessage, path?: string | null): string {
  return JSON.stringify({
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

/** How a message reads for people (after its time and sender). */
export function messageText(m: ChatMessage, path?: string | null): string {
  if (m.call) return callText(m.call);
  if (m.deleted) return "(message deleted)";
  if (m.system?.event === "timer")
    return m.system.seconds > 0
      ? `(${m.system.by} set disappearing messages to ${m.system.seconds} s)`
      : `(${m.system.by} turned disappearing messages off)`;
  if (m.system?.event === "devices-changed")
    return `(${m.system.username}'s devices changed: check the safety number with sori safety-number ${m.system.username})`;
  const file = m.file ? `[file ${m.file.name}, ${m.file.size} bytes${path ? ` → ${path}` : ""}]` : "";
  const sticker = m.sticker ? `[sticker ${m.sticker.pack}/${m.sticker.id}]` : "";
  return [file, sticker, m.text, m.edited ? "(edited)" : ""].filter(Boolean).join(" ");
}

/** A message as one line of `receive` or `history`; `chatName` is shown for group chats. */
export function messageLine(m: ChatMessage, chatName?: string, path?: string | null): string {
  const where = chatName === undefined ? "" : `[${chatName}] `;
  return `${new Date(m.sentAt).toISOString()} ${where}${m.from}: ${messageText(m, path)}`;
}

/** A chat as one line of `sori chats`. */
export function chatLine(c: ChatSummary): string {
  const when = c.lastMessageAt ? new Date(c.lastMessageAt).toISOString() : "-";
  const status = c.active ? "" : " (removed)";
  return `${c.id}  ${c.kind === "group" ? "group" : "direct"}  ${c.name}${status}  members: ${c.members.join(", ")}  last: ${when}`;
}
