/**
 * Bidi controls (embeddings, overrides, isolates, marks, the Arabic letter mark): in a display name they
 * only serve to make it look like another, as "\u202Eecila" shows as "alice".
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** First strong isolate … pop directional isolate: the name keeps its own direction, and leaves the rest be. */
const FSI = "\u2068";
const PDI = "\u2069";

/** A display name as shown: without bidi controls, trimmed; null when nothing is left of it. */
export function cleanDisplayName(name: string | null | undefined): string | null {
  return name?.replace(BIDI_CONTROLS, "").trim() || null;
}

/**
 * Whether to show the username beside a display name: where several people talk, anyone may pick the
 * display name "alice", but only one person has the username alice. Not when they are the same.
 */
export function showsUsername(displayName: string | null, username: string): boolean {
  return displayName !== null && displayName !== username;
}

/**
 * A person in a group as plain text, for sentences ("… is typing", "Reply to …"): "Alice (@alice)", the
 * display name isolated so that whatever direction it runs in, it cannot reorder the rest.
 */
export function nameWithUsername(displayName: string | null, username: string): string {
  return showsUsername(displayName, username) ? `${FSI}${displayName}${PDI} (@${username})` : username;
}
