import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { SdkError } from "../errors.ts";
import { SortedKeys } from "./sorted-keys.ts";
import type { ClientStorage } from "./storage.ts";

const LOCK_FILE = ".lock";
/**
 * Bytes of values kept in memory per directory. The lock makes this process the directory's only
 * user, so what it read or wrote stays true until it changes it; reads then cost no file open (a
 * device reads its group states, chats and counters for every message).
 */
const CACHE_BYTES = 8 * 1024 * 1024;

/**
 * The storages this process holds locked, released when it exits: one listener for all of them, as a
 * gateway holds one per identity (thousands) and a listener each would trip Node's leak warning.
 */
const lockedAtExit = new Set<FileStorage>();
process.once("exit", () => {
  for (const storage of lockedAtExit) storage.release();
});

/**
 * A directory of files, one per key, readable by the owner only (0700 directory, 0600 files). Writes go
 * to a temporary file that is fsynced and renamed into place, so a crash or power loss never leaves half
 * a value or loses an acknowledged one. One process at a time may use a directory (a lock file holds
 * its pid): two processes writing the same MLS state could reuse a ratchet generation.
 */
export class FileStorage implements ClientStorage {
  readonly #dir: string;
  #ready: Promise<void> | undefined;
  #tmpCounter = 0;
  #locked = false;
  /** Recently read or written values (null: known to be absent), least recently used first. */
  readonly #cache = new Map<string, Uint8Array | null>();
  #cachedBytes = 0;
  /** Every key in the directory, once listed: kept up to date by put and delete. */
  #keys: SortedKeys | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #init(): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => this.#lock());
    return this.#ready;
  }

  #lock(): void {
    const path = join(this.#dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, "wx", 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.#locked = true;
        lockedAtExit.add(this);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = Number(readFileSync(path, "utf8"));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new SdkError(
          "conflict",
          `this profile (${this.#dir}) is in use by another sori process (pid ${holder})`,
        );
      }
      // A lock left by a process that is gone: take it over.
      unlinkSync(path);
    }
    throw new SdkError("conflict", `could not lock the profile ${this.#dir}`);
  }

  /** Gives the directory up for other processes. */
  release(): void {
    if (!this.#locked) return;
    this.#locked = false;
    lockedAtExit.delete(this);
    try {
      unlinkSync(join(this.#dir, LOCK_FILE));
    } catch {
      // Already gone.
    }
  }

  #path(key: string): string {
    return join(this.#dir, encodeKey(key));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.#init();
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#remember(key, cached);
      return cached?.slice();
    }
    try {
      const value = new Uint8Array(await readFile(this.#path(key)));
      this.#remember(key, value);
      return value.slice();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.#remember(key, null);
        return undefined;
      }
      throw error;
    }
  }

  #remember(key: string, value: Uint8Array | null): void {
    const before = this.#cache.get(key);
    if (before !== undefined) {
      this.#cachedBytes -= before?.length ?? 0;
      this.#cache.delete(key);
    }
    if (value && value.length > CACHE_BYTES / 8) return;
    this.#cache.set(key, value);
    this.#cachedBytes += value?.length ?? 0;
    for (const [k, v] of this.#cache) {
      if (this.#cachedBytes <= CACHE_BYTES && this.#cache.size <= 100_000) break;
      this.#cache.delete(k);
      this.#cachedBytes -= v?.length ?? 0;
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.#init();
    const target = this.#path(key);
    const tmp = `${target}.${process.pid}.${this.#tmpCounter++}.tmp`;
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(value);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, target);
    // Only what is on disk is remembered: a failed write above leaves the cache as it was.
    this.#remember(key, value.slice());
    this.#keys?.add(key);
    const dir = await open(this.#dir, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async delete(key: string): Promise<void> {
    await this.#init();
    await rm(this.#path(key), { force: true });
    this.#remember(key, null);
    this.#keys?.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    await this.#init();
    if (!this.#keys) {
      const names = await readdir(this.#dir);
      this.#keys = new SortedKeys(
        names
          .filter((n) => !n.endsWith(".tmp") && n !== LOCK_FILE)
          .map(decodeKey)
          .filter((k): k is string => typeof k === "string"),
      );
    }
    return this.#keys.withPrefix(prefix);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
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
