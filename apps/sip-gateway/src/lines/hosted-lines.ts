import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";

/** A phone line this gateway hosts for a Sori user: who owns it and the digests its phone proves. */
export type HostedLine = {
  id: string;
  owner: { userId: string; username: string };
  name: string;
  /** The digest user name the phone authenticates with. */
  authUser: string;
  realm: string;
  /** H(authUser:realm:password) per algorithm (RFC 7616): what the phone's password is checked against. */
  ha1: { md5: string; sha256: string };
  createdAt: number;
};

const HostedLineWire = z.object({
  id: z.string().min(8).max(64),
  owner: z.object({ userId: z.string().min(1).max(64), username: z.string().min(1).max(64) }),
  name: z.string().min(1).max(32),
  authUser: z.string().min(1).max(128),
  realm: z.string().min(1).max(128),
  ha1: z.object({ md5: z.string().regex(/^[0-9a-f]{32}$/), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  createdAt: z.number(),
});

const FileWire = z.object({
  version: z.literal(1),
  lines: z.array(z.unknown()).max(100_000),
  bindings: z.unknown().optional(),
});

/**
 * The lines a gateway hosts, kept in one JSON file (mode 0600: the digests are as good as passwords
 * for calling as their owner). Written whole and renamed into place, so a crash leaves the old file
 * or the new one. Without a file (tests) they live in memory only.
 */
export class HostedLines {
  readonly #path: string | undefined;
  readonly #lines = new Map<string, HostedLine>();
  /** Entries of the file that did not parse: written back as they were, never silently dropped. */
  #unparsed: unknown[] = [];
  #bindings: unknown;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string | undefined) {
    this.#path = path;
  }

  /** Loads `path` if it exists; entries that do not parse are skipped (and reported in `skipped`). */
  static async open(path: string | undefined): Promise<{ lines: HostedLines; skipped: number }> {
    const store = new HostedLines(path);
    if (!path) return { lines: store, skipped: 0 };
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { lines: store, skipped: 0 };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LineStoreError(`${path} is not valid JSON: restore it from a backup or move it away`);
    }
    const file = FileWire.safeParse(json);
    if (!file.success) throw new LineStoreError(`${path} is not a gateway line file`);
    let skipped = 0;
    for (const raw of file.data.lines) {
      const line = HostedLineWire.safeParse(raw);
      if (line.success) store.#lines.set(line.data.id, line.data);
      else {
        skipped++;
        store.#unparsed.push(raw);
      }
    }
    store.#bindings = file.data.bindings;
    return { lines: store, skipped };
  }

  get(id: string): HostedLine | undefined {
    return this.#lines.get(id);
  }

  byAuthUser(authUser: string): HostedLine | undefined {
    for (const l of this.#lines.values()) if (l.authUser === authUser) return l;
    return undefined;
  }

  ofOwner(userId: string): HostedLine[] {
    return [...this.#lines.values()].filter((l) => l.owner.userId === userId);
  }

  /** Whether some line belongs to this Sori username (phones claiming to be them must authenticate). */
  hasOwnerNamed(username: string): boolean {
    const name = username.toLowerCase();
    for (const l of this.#lines.values()) if (l.owner.username.toLowerCase() === name) return true;
    return false;
  }

  get size(): number {
    return this.#lines.size;
  }

  put(line: HostedLine): void {
    this.#lines.set(line.id, line);
  }

  delete(id: string): HostedLine | undefined {
    const line = this.#lines.get(id);
    this.#lines.delete(id);
    return line;
  }

  /** The registrar's bindings as last saved (the registrar validates them). */
  get savedBindings(): unknown {
    return this.#bindings;
  }

  /** Writes lines and `bindings` out; writes run one after another, the last one wins. */
  save(bindings: unknown): Promise<void> {
    this.#bindings = bindings;
    const path = this.#path;
    if (!path) return Promise.resolve();
    const text = JSON.stringify({
      version: 1,
      lines: [...this.#lines.values(), ...this.#unparsed],
      bindings,
    });
    const next = this.#writing.then(async () => {
      const tmp = `${path}.${process.pid}.tmp`;
      // Synced before and after the rename: a line its owner was told about survives a power cut.
      const file = await open(tmp, "w", 0o600);
      try {
        await file.chmod(0o600);
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
      const dir = await open(dirname(path), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    });
    this.#writing = next.catch(() => undefined);
    return next;
  }
}

/** The line file exists but is not one. */
export class LineStoreError extends Error {
  readonly code = "bad-line-file";
  constructor(message: string) {
    super(message);
    this.name = "LineStoreError";
  }
}
