import type { ChatMessage, MessagePatch, StoredMessage } from "./chat-store.ts";
import type { Content } from "./content.ts";

type Change = Extract<Content, { type: "reaction" | "edit" | "delete" }>;

/** The disappearing-message timers a chat can have, in seconds (0 = off). */
export const TIMER_CHOICES = [0, 30, 300, 3600, 86_400, 604_800] as const;

/** Per-device privacy settings; both on by default. */
export type ClientSettings = {
  /** Send "read" receipts when this device marks a chat read. */
  readReceipts: boolean;
  /** Send typing indicators. */
  typingIndicators: boolean;
  /**
   * "automatic": the device confirms each message it processed (the senders see "delivered").
   * "manual": it confirms only what it is told to (`confirmDelivered`): a bridge's identity does so
   * once the other network's client has the message, so that "delivered" means what it says.
   */
  deliveryReceipts: "automatic" | "manual";
};

export const DEFAULT_SETTINGS: ClientSettings = {
  readReceipts: true,
  typingIndicators: true,
  deliveryReceipts: "automatic",
};

/** Longest quoted snippet carried with a reply. */
const REPLY_SNIPPET = 200;

/** Typing indicators older than this (server time) are stale when they arrive. */
export const TYPING_FRESH_MS = 15_000;

/** The content that carries an outgoing user message (text, sticker or file) as stored. */
export function contentForMessage(m: StoredMessage): Content {
  const extras = {
    ...(m.replyTo
      ? { replyTo: { id: m.replyTo.id, fromUserId: m.replyTo.fromUserId, text: m.replyTo.text } }
      : {}),
    ...(m.forwarded ? { forwarded: true } : {}),
    ...(m.expiresIn ? { expiresIn: m.expiresIn } : {}),
  };
  if (m.kind === "sticker" && m.sticker)
    return {
      v: 1,
      type: "sticker",
      id: m.id,
      pack: m.sticker.pack,
      sticker: m.sticker.id,
      ...(m.fileRef ? { file: m.fileRef } : {}),
      sentAt: m.sentAt,
      ...extras,
    };
  if (m.kind === "sticker-pack" && m.packManifest)
    return { v: 1, type: "sticker-pack", id: m.id, pack: m.packManifest, sentAt: m.sentAt };
  if (m.kind === "file" && m.fileRef)
    return {
      v: 1,
      type: "file",
      id: m.id,
      file: m.fileRef,
      ...(m.text ? { text: m.text } : {}),
      sentAt: m.sentAt,
      ...extras,
    };
  return { v: 1, type: "text", id: m.id, text: m.text, sentAt: m.sentAt, ...extras };
}

/** The reactions map after `userId` adds (`on`) or takes back `emoji`. */
export function applyReaction(
  reactions: Record<string, string[]> | undefined,
  emoji: string,
  userId: string,
  on: boolean,
): Record<string, string[]> {
  const next = { ...(reactions ?? {}) };
  const users = new Set(next[emoji] ?? []);
  if (on) users.add(userId);
  else users.delete(userId);
  if (users.size > 0) next[emoji] = [...users].sort();
  else delete next[emoji];
  return next;
}

/** A short quote of a message for a reply. */
export function snippetOf(m: ChatMessage): string {
  const text = m.text || (m.file ? m.file.name : m.sticker ? `[${m.sticker.id}]` : "");
  return text.slice(0, REPLY_SNIPPET);
}

/** Is `emoji` plausible as a reaction: 1 to 32 characters, no letters, digits or whitespace. */
export function isReactionEmoji(emoji: string): boolean {
  return emoji.length >= 1 && emoji.length <= 32 && !/[\p{L}\p{N}\s]/u.test(emoji);
}

/**
 * What a reaction, edit or deletion from `senderId` does to a stored message: a patch, undefined
 * when there is nothing to do (a deleted or system message), or "forged" when someone other than
 * the author tries to edit or delete it.
 */
export function changePatch(
  m: StoredMessage,
  senderId: string,
  change: Change,
): MessagePatch | "forged" | undefined {
  // History's own entries: a call can be reacted to, but not edited or deleted by a member.
  if (m.kind === "system" || (m.kind === "call" && change.type !== "reaction")) return undefined;
  if (change.type === "reaction")
    return m.deleted
      ? undefined
      : { reactions: applyReaction(m.reactions, change.emoji, senderId, change.on) };
  if (m.fromUserId !== senderId) return "forged";
  if (change.type === "edit") return m.deleted ? undefined : { text: change.text, edited: true };
  return tombstone;
}

/** What is left of a message deleted for everyone: who sent it when, and that it was deleted. */
function tombstone(m: StoredMessage): StoredMessage {
  if (m.kind === "call" || m.kind === "system") return m;
  const {
    sticker: _s,
    file: _f,
    stickerPack: _p,
    fileRef: _r,
    packManifest: _m,
    reactions: _x,
    replyTo: _q,
    ...meta
  } = m;
  return { ...meta, kind: m.kind, deleted: true, text: "" };
}
