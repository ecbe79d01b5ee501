import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@sori/server";

/** Bytes of randomness in a link's token: 256 bits, base64url (43 characters). */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A file the gateway serves at an unguessable link until it expires. */
export type HostedFile = {
  /** The secret part of its URL. */
  token: string;
  /** What it was hosted for (the caller's key): hosting the same thing again gives the same link. */
  key: string;
  name: string;
  mime: string;
  size: number;
  /** Milliseconds since the epoch; from then on the link is gone. */
  expiresAt: number;
};

type Meta = HostedFile & { v: 1 };

/** Why a file could not be hosted. */
export class HostingError extends Error {
  readonly code: "full" | "expired";
  constructor(code: HostingError["code"], message: string) {
    super(message);
    this.name = "HostingError";
    this.code = code;
  }
}

/**
 * The files behind the gateway's links, on disk: `<id>.data` (the plaintext) and `<id>.json` (its
 * name, type, size, expiry and token), where the id is the SHA-256 of the token. Both are written to a
 * temporary name and renamed, the data first, so a crash leaves a whole file or none; what a crash
 * leaves half-done is removed on open. Expired files are removed on open and by sweep(); the total is
 * capped, and a file that does not fit is refused (older links are never broken to make room).
 */
export class HostedFiles {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #log: Logger;
  readonly #now: () => number;
  /** SHA-256 of the token (hex) → file. */
  readonly #byId = new Map<string, HostedFile>();
  readonly #byKey = new Map<string, string>();
  #used = 0;

  private constructor(dir: string, o: { maxBytes: number; log: Logger; now: () => number }) {
    this.#dir = dir;
    this.#maxBytes = o.maxBytes;
    this.#log = o.log;
    this.#now = o.now;
  }

  /** Opens (or makes, mode 0700) the directory and reads what it holds. */
  static async open(
    dir: string,
    o: { maxBytes: number; log: Logger; now?: () => number },
  ): Promise<HostedFiles> {
    const files = new HostedFiles(dir, { ...o, now: o.now ?? Date.now });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await files.#load();
    return files;
  }

  /** Bytes held now. */
  get usedBytes(): number {
    return this.#used;
  }

  /** The unexpired file hosted for `key`, if any. */
  byKey(key: string): HostedFile | undefined {
    const id = this.#byKey.get(key);
    const f = id === undefined ? undefined : this.#byId.get(id);
    return f && f.expiresAt > this.#now() ? f : undefined;
  }

  /**
   * The file a link's token names, with the path of its bytes; undefined alike for tokens that never
   * existed, malformed ones and expired ones.
   */
  byToken(token: string): (HostedFile & { path: string }) | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const id = idOf(token);
    const f = this.#byId.get(id);
    if (!f || f.expiresAt <= this.#now()) return undefined;
    return { ...f, path: this.#dataPath(id) };
  }

  /** Hosts `bytes` for `key` until `expiresAt` (the same link if `key` is hosted already). */
  async add(
    key: string,
    bytes: Uint8Array,
    info: { name: string; mime: string; expiresAt: number },
  ): Promise<HostedFile> {
    const known = this.byKey(key);
    if (known) return known;
    if (info.expiresAt <= this.#now()) throw new HostingError("expired", "the message has expired");
    await this.sweep();
    if (this.#used + bytes.length > this.#maxBytes)
      throw new HostingError("full", "the gateway's file store is full");
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const id = idOf(token);
    const f: HostedFile = { token, key, size: bytes.length, ...info };
    // Counted before the writes, so that two at once cannot both squeeze into the last room.
    this.#used += f.size;
    try {
      await writeAtomically(this.#dataPath(id), bytes);
      await writeAtomically(this.#metaPath(id), JSON.stringify({ v: 1, ...f } satisfies Meta));
    } catch (error) {
      this.#used -= f.size;
      await this.#removeFiles(id);
      throw error;
    }
    this.#byId.set(id, f);
    this.#byKey.set(key, id);
    return f;
  }

  /** Takes the link for `key` down at once (the message was deleted). */
  async remove(key: string): Promise<boolean> {
    const id = this.#byKey.get(key);
    if (id === undefined) return false;
    await this.#drop(id);
    return true;
  }

  /** Removes expired files; how many. */
  async sweep(): Promise<number> {
    const now = this.#now();
    const expired = [...this.#byId].filter(([, f]) => f.expiresAt <= now).map(([id]) => id);
    for (const id of expired) await this.#drop(id);
    return expired.length;
  }

  async #drop(id: string): Promise<void> {
    const f = this.#byId.get(id);
    if (!f) return;
    this.#byId.delete(id);
    if (this.#byKey.get(f.key) === id) this.#byKey.delete(f.key);
    this.#used -= f.size;
    await this.#removeFiles(id);
  }

  async #removeFiles(id: string): Promise<void> {
    // The description first: without it the data is an orphan that the next open removes.
    await rm(this.#metaPath(id), { force: true });
    await rm(this.#dataPath(id), { force: true });
  }

  async #load(): Promise<void> {
    const names = await readdir(this.#dir);
    const present = new Set(names);
    const now = this.#now();
    let dropped = 0;
    for (const name of names) {
      if (name.endsWith(".tmp")) {
        await rm(join(this.#dir, name), { force: true });
        continue;
      }
      if (!name.endsWith(".json")) continue;
      const id = name.slice(0, -".json".length);
      const meta = await readMeta(join(this.#dir, name));
      if (!meta || idOf(meta.token) !== id || !present.has(`${id}.data`) || meta.expiresAt <= now) {
        await this.#removeFiles(id);
        dropped++;
        continue;
      }
      const f: HostedFile = {
        token: meta.token,
        key: meta.key,
        name: meta.name,
        mime: meta.mime,
        size: meta.size,
        expiresAt: meta.expiresAt,
      };
      this.#byId.set(id, f);
      this.#byKey.set(f.key, id);
      this.#used += f.size;
    }
    // Data whose description is gone (a crash between the two writes, or a removal cut short).
    for (const name of names)
      if (name.endsWith(".data") && !this.#byId.has(name.slice(0, -".data".length))) {
        await rm(join(this.#dir, name), { force: true });
        dropped++;
      }
    if (this.#byId.size > 0 || dropped > 0)
      this.#log.info("xmpp.hosted_files_loaded", { files: this.#byId.size, bytes: this.#used, dropped });
  }

  #dataPath(id: string): string {
    return join(this.#dir, `${id}.data`);
  }

  #metaPath(id: string): string {
    return join(this.#dir, `${id}.json`);
  }
}

function idOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

async function readMeta(path: string): Promise<Meta | undefined> {
  try {
    const m = JSON.parse(await readFile(path, "utf8")) as Partial<Meta>;
    const ok =
      m.v === 1 &&
      typeof m.token === "string" &&
      TOKEN_PATTERN.test(m.token) &&
      typeof m.key === "string" &&
      typeof m.name === "string" &&
      typeof m.mime === "string" &&
      Number.isSafeInteger(m.size) &&
      Number.isFinite(m.expiresAt);
    return ok ? (m as Meta) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes to `<path>.tmp`, flushes it to the disk, then renames it into place (mode 0600). */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
