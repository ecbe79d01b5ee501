/**
 * What must not reach a terminal as it is in text from other people or the server: C0 and C1 controls
 * and DEL (ESC and CSI start sequences that move the cursor, clear the screen, retitle the window or
 * worse), format characters (bidi overrides and isolates, LRM/RLM/ALM, zero-width spaces, BOM, tags:
 * they reorder or hide text), line and paragraph separators, and lone surrogates. Two format
 * characters pass: the zero-width (non-)joiners U+200C/U+200D, which Persian, Indic scripts and emoji
 * sequences need, and the tags of a flag emoji (U+1F3F4, tags, U+E007F), captured by the first group.
 */
const UNSAFE =
  /(\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** How a message's own line breaks are shown: the next line, indented, so it cannot pass for a new entry. */
export const CONTINUATION = "\n    ";

export type EscapeOptions = {
  /** Show line breaks (\n, \r\n) as CONTINUATION lines instead of `\n` (message text and captions). */
  multiline?: boolean;
};

/**
 * `text` made safe to print: each unsafe character becomes a visible escape, `\x1b`, `\u202e`,
 * `\u{e0001}` (`\n`, `\r`, `\t` by name). Backslashes are left alone: this is for reading, not for
 * parsing back (--json output is exact).
 */
export function escapeForTerminal(text: string, options: EscapeOptions = {}): string {
  const lines = options.multiline ? text.split(/\r?\n/) : [text];
  return lines
    .map((line) => line.replace(UNSAFE, (char, flag?: string) => flag ?? escapeChar(char)))
    .join(CONTINUATION);
}

/**
 * `JSON.stringify(value)` with the same characters written as \u escapes: the parsed data is exactly
 * `value`, but the line is safe to look at in a terminal too (JSON.stringify leaves C1, DEL and bidi
 * controls raw).
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (char, flag?: string) => flag ?? utf16Escapes(char));
}

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const cp = char.codePointAt(0)!;
  const hex = cp.toString(16);
  if (cp <= 0xff) return `\\x${hex.padStart(2, "0")}`;
  return cp <= 0xffff ? `\\u${hex.padStart(4, "0")}` : `\\u{${hex}}`;
}

function utf16Escapes(char: string): string {
  let out = "";
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
}
