import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClientStorage } from "./storage.ts";

/**
 * A directory of files, one per key, readable by the owner only (0700 directory, 0600 files). Writes go
 * to a temporary file that is renamed into place, so a crash never leaves half a value.
 */
export class FileStorage implements ClientStorage {
  readonly #dir: string;
  #ready: Promise<void> | undefined;
  #tmpCounter = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #init(): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.#ready;
  }

  #path(key: string): string {
    return join(this.#dir, encodeKey(key));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.#init();
    try {
      return new Uint8Array(await readFile(this.#path(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.#init();
    const target = this.#path(key);
    const tmp = `${target}.${process.pid}.${this.#tmpCounter++}.tmp`;
    await writeFile(tmp, value, { mode: 0o600 });
    await rename(tmp, target);
  }

  async delete(key: string): Promise<void> {
    await this.#init();
    await rm(this.#path(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    await this.#init();
    const names = await readdir(this.#dir);
    return names
      .filter((n) => !n.endsWith(".tmp"))
      .map(decodeKey)
      .filter((k): k is string => typeof k === "string" && k.startsWith(prefix))
      .sort();
  }
}

// File names keep keys readable where safe ("/" becomes "~"); anything else is percent-encoded.
function encodeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, (c) =>
    c === "/" ? "~" : `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function decodeKey(name: string): string | undefined {
  try {
    return name
      .replace(/~/g, "/")
      .replace(/%([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  } catch {
    return undefined;
  }
}
