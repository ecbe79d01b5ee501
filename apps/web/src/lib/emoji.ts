/** Everyday emoji offered in the picker; any other emoji can still be typed. */
// Eight a row, as the picker shows them.
// prettier-ignore
export const QUICK_EMOJI = [
  "😀", "😂", "🥹", "😊", "😍", "🥰", "😘", "😎",
  "🤔", "😮", "😢", "😭", "😡", "🥺", "😴", "🤗",
  "👍", "👎", "👏", "🙏", "🙌", "💪", "👋", "🤝",
  "❤️", "💛", "💚", "💙", "💜", "🔥", "✨", "🎉",
  "☕", "🍚", "🍜", "🍻", "🎂", "🌸", "☀️", "🌙",
];

const ONLY_EMOJI =
  /^(?:\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier}|\u200D\p{Extended_Pictographic})*\s*){1,3}$/u;

/** True for a message of one to three emoji and nothing else, shown larger like in other messengers. */
export function isJumboEmoji(text: string): boolean {
  return ONLY_EMOJI.test(text.trim());
}

/** The reactions offered first, like other messengers; any other emoji is one tap further. */
export const REACTION_EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/** True for something usable as a reaction: one emoji (with its modifiers), no letters, digits or spaces. */
export function isReactionEmoji(text: string): boolean {
  return (
    text.length >= 1 &&
    text.length <= 32 &&
    !/[\p{L}\p{N}\s]/u.test(text) &&
    /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(text)
  );
}
