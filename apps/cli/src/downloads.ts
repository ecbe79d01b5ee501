import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, extname, join } from "node:path";

/**
 * A file name from a sender, made safe to write: no directories, no leading dots, no control
 * characters; an existing file is never overwritten (" (1)", " (2)", … are added).
 */
function safeDownloadPath(dir: string, name: string): string {
  let clean = basename(name.replace(/\\/g, "/"))
    // eslint-disable-next-line no-control-regex -- control characters are what is being removed
    .replace(/[\u0000-\u001f\u007f]/g, "_")
    .replace(/^\.+/, "")
    .slice(0, 200);
  if (clean === "") clean = "file";
  const ext = extname(clean);
  const stem = clean.slice(0, clean.length - ext.length);
  let candidate = join(dir, clean);
  for (let i = 1; existsSync(candidate) && i < 10_000; i++) candidate = join(dir, `${stem} (${i})${ext}`);
  return candidate;
}

/** Writes a received file (mode 0600: it was end-to-end encrypted) and returns its path. */
export function saveDownload(dir: string, name: string, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = safeDownloadPath(dir, name);
  writeFileSync(path, bytes, { mode: 0o600, flag: "wx" });
  return path;
}
