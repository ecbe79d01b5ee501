import { bridgedNetworkOf, type ChatMessage, type ChatSummary } from "@sori/sdk";
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
    // An entry the SDK wrote (a contact request, say): what it is, for scripts to act on.
    ...(m.system ? { system: m.system } : {}),
    // Sent, but a member's gateway could not pass it on to their network.
    ...(m.undelivered?.length
      ? { undelivered: m.undelivered.map(({ username, reason }) => ({ username, reason })) }
      : {}),
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
function messageText(m: ChatMessage, path?: string | null): string {
  if (m.call) return esc(callText(m.call));
  if (m.deleted) return "(message deleted)";
  if (m.system) return systemText(m.system);
  // The saved path is escaped too: it is made of the sender's file name.
  const saved = path ? ` → ${esc(path)}` : "";
  const file = m.file ? `[file ${esc(m.file.name)}, ${m.file.size} bytes${saved}]` : "";
  const sticker = m.sticker ? `[sticker ${esc(m.sticker.pack)}/${esc(m.sticker.id)}]` : "";
  const text = esc(m.text, { multiline: true });
  const undelivered = (m.undelivered ?? []).map(
    (u) => `(not delivered to ${esc(u.username)}: ${esc(u.reason)})`,
  );
  return [file, sticker, text, m.edited ? "(edited)" : "", ...undelivered].filter(Boolean).join(" ");
}

/** An entry the SDK wrote into the chat by itself. */
function systemText(e: NonNullable<ChatMessage["system"]>): string {
  switch (e.event) {
    case "timer":
      return e.seconds > 0
        ? `(${esc(e.by)} set disappearing messages to ${e.seconds} s)`
        : `(${esc(e.by)} turned disappearing messages off)`;
    case "devices-changed":
      return `(${esc(e.username)}'s devices changed: check the safety number with sori safety-number ${esc(e.username)})`;
    case "identity-changed":
      return `(${esc(e.username)}'s safety number changed: compare it with sori safety-number ${esc(e.username)}, then accept it with --verify or --accept; nothing is sent to them until then)`;
    case "identity-accepted":
      return `(you accepted ${esc(e.username)}'s new safety number)`;
    case "device-refused":
      return `(refused a device offered as ${esc(e.username)}'s: their account did not sign it in (${esc(e.reason)}); the server may be trying to read this chat)`;
    case "rejoined":
      return "(this device missed a change to the chat and was added again; messages sent meanwhile could not be read here)";
    case "messages-missing":
      return `(${e.count} message${e.count === 1 ? "" : "s"} from ${esc(e.username)} did not arrive: they expired, or the server dropped them)`;
    case "reordered":
      return `(messages from ${esc(e.username)} arrived out of order: the server delivered them in another order than they were sent)`;
    case "contact":
      return `(${contactText(e)})`;
  }
}

/** A contact change as a sentence, with what to run when it asks for an answer. */
export function contactText(c: { username: string; state: string; by: "me" | "them" }): string {
  const name = esc(c.username);
  if (c.by === "them")
    switch (c.state) {
      case "asked-me":
        return `${name} asks to be your contact: sori contacts accept ${name}, or sori contacts decline ${name}`;
      case "accepted":
        return `${name} accepted: you are contacts`;
      case "declined":
        return `${name} declined your contact request`;
      default:
        return `${name} is no longer your contact (or took back their request)`;
    }
  switch (c.state) {
    case "asked-them":
      return `you asked ${name} to be your contact`;
    case "accepted":
      return `you accepted ${name}: you are contacts`;
    case "declined":
      return `you declined ${name}'s contact request`;
    default:
      return `you removed ${name} from your contacts`;
  }
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
  const networks = [...new Set(c.members.map(bridgedNetworkOf).filter((n) => n !== undefined))];
  const via =
    networks.length > 0 ? `  (via ${networks.join(", ")}: not end-to-end encrypted past the gateway)` : "";
  return `${esc(c.id)}  ${c.kind === "group" ? "group" : "direct"}  ${esc(c.name)}${status}${via}  members: ${members}  last: ${when}`;
}
