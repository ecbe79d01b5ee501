// Soft colours that read well with white initials in both themes.
const PALETTE = ["#f28b54", "#e5688f", "#a56ee0", "#5f7ee8", "#3ba7d6", "#2fae8e", "#7fae3a", "#d9a126"];

/** A stable colour for a user or chat id, so the same person always has the same circle. */
export function avatarColor(seed: string): string {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length] ?? "#888";
}

/** The first letter (grapheme) of a name, upper-cased, for an avatar circle. */
export function initialOf(name: string): string {
  const first = [...name.trim()][0] ?? "?";
  return first.toLocaleUpperCase();
}
