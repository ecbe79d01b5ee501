/** The number of a tel: URI or a dialled string, without visual separators; undefined if not one. */
export function normalizeNumber(text: string): string | undefined {
  const n = text.split(";")[0]!.replace(/[\s().-]/g, "");
  return /^\+?[0-9*#]{1,32}$/.test(n) ? n : undefined;
}
