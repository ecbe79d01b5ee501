import type { MessageKey } from "../i18n/message-key.ts";

/** The built-in emoticon pack, drawn for Sori. Its id travels in sticker messages. */
export const SORI_PACK = "sori";

export const SORI_STICKER_IDS = [
  "hello",
  "love",
  "laugh",
  "cry",
  "thanks",
  "ok",
  "sorry",
  "angry",
  "sleepy",
  "surprised",
  "party",
  "bye",
] as const;

export type SoriStickerId = (typeof SORI_STICKER_IDS)[number];

export function isSoriStickerId(id: string): id is SoriStickerId {
  return (SORI_STICKER_IDS as readonly string[]).includes(id);
}

/** The translated name of each sticker: its accessible label and its chat-list preview. */
export const STICKER_LABELS: Record<SoriStickerId, MessageKey> = {
  hello: "emoticon.hello",
  love: "emoticon.love",
  laugh: "emoticon.laugh",
  cry: "emoticon.cry",
  thanks: "emoticon.thanks",
  ok: "emoticon.ok",
  sorry: "emoticon.sorry",
  angry: "emoticon.angry",
  sleepy: "emoticon.sleepy",
  surprised: "emoticon.surprised",
  party: "emoticon.party",
  bye: "emoticon.bye",
};
