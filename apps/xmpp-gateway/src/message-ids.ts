import { open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "@sori/server";

/**
 * The file beside an identity's SDK storage. FileStorage lists its directory by key prefix; this
 * name starts with none of the SDK's (storage-keys.ts) and has no "~", which would read as a "/".
 */
const FILE = "xmpp-message-ids.jsonl";
/**
 * Messages remembered per identity: the ones an XMPP client can still correct, quote or react to
 * (a few hundred kB of memory per busy identity).
 */
export const MAX_MESSAGES = 2000;
/** XMPP ids one message keeps: its stanza id, origin-id and the ids of corrections naming it. */
const MAX_ALIASES = 8;

/** Who wrote a bridged message: the XMPP user (through their identity) or the Sori user. */
type Author = "xmpp" | "sori";

/**
 * One message both sides know, and what XMPP was told of it. XMPP names messages by stanza id (and
 * XEP-0359 origin-id), Sori by its message id; Sori → XMPP the two are the same.
 */
export type BridgedMessage = {
  /** The Sori message id. */
  sori: string;
  /** The identity's direct chat it is in. */
  chat: string;
  /** The XMPP ids that name it; the first is the one XMPP features refer to. */
  xmpp: string[];
  by: Author;
  /** The XMPP client asked for chat markers (XEP-0333): a displayed marker may be sent. */
  markable?: boolean;
  /** A displayed marker for it went to XMPP. */
  displayed?: boolean;
  /** The XMPP user's reactions, as applied on the Sori side. */
  xmppReactions?: string[];
  /** The Sori user's reactions, as XMPP was last told. */
  soriReactions?: string[];
  /** The Sori user's text as XMPP last got it, hashed: a correction goes out only for a change. */
  textHash?: string;
  /** XMPP was told it is retracted. */
  retracted?: boolean;
  /** A file that went as a link (oob.ts): its caption is `textHash`, sent as message `captionId`. */
  link?: { captionId?: string };
};

/**
 * One identity's map of XMPP ids ↔ Sori message ids, the newest MAX_MESSAGES, durable in a JSON-lines
 * file: each change appends the message's whole record (one fsync per batch of changes), and the file
 * is rewritten (fsynced, renamed) once it holds twice as many lines as messages. A torn last line
 * after a crash is skipped on load.
 */
export class MessageIds {
  readonly #path: string;
  readonly #log: Logger;
  /** Sori id → record, oldest touched first (a Map keeps insertion order). */
  readonly #bySori = new Map<string, BridgedMessage>();
  readonly #byXmpp = new Map<string, string>();
  #lines = 0;
  #pending: string[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;

  private constructor(path: string, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  /** Opens (or starts) the map in an identity's directory. */
  static async open(dir: string, log: Logger): Promise<MessageIds> {
    const ids = new MessageIds(join(dir, FILE), log);
    await ids.#load();
    return ids;
  }

  bySori(id: string): BridgedMessage | undefined {
    return this.#bySori.get(id);
  }

  byXmpp(id: string): BridgedMessage | undefined {
    const sori = this.#byXmpp.get(id);
    return sori === undefined ? undefined : this.#bySori.get(sori);
  }

  /**
   * Records a message (or changes its record: the fields given replace those stored, XMPP ids are
   * added to those it has).
   */
  remember(m: BridgedMessage): BridgedMessage {
    const old = this.#bySori.get(m.sori);
    const xmpp = [...new Set([...(old?.xmpp ?? []), ...m.xmpp])].slice(0, MAX_ALIASES);
    const next = { ...old, ...m, xmpp };
    this.#put(next);
    this.#append(next);
    return next;
  }

  /** Changes what is recorded of a known message. */
  update(sori: string, patch: Partial<Omit<BridgedMessage, "sori" | "chat" | "by">>): void {
    const old = this.#bySori.get(sori);
    if (old) this.remember({ ...old, ...patch, xmpp: patch.xmpp ?? [] });
  }

  /** Resolves once every change so far is on disk (or failed to get there, which is logged). */
  async flushed(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flushed();
  }

  #put(m: BridgedMessage): void {
    // Delete first so that the record moves to the newest end.
    this.#bySori.delete(m.sori);
    this.#bySori.set(m.sori, m);
    for (const x of m.xmpp) this.#byXmpp.set(x, m.sori);
    while (this.#bySori.size > MAX_MESSAGES) {
      const [oldest] = this.#bySori.values();
      this.#bySori.delete(oldest!.sori);
      for (const x of oldest!.xmpp) if (this.#byXmpp.get(x) === oldest!.sori) this.#byXmpp.delete(x);
    }
  }

  async #load(): Promise<void> {
    let text = "";
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    for (const line of text.split("\n")) {
      if (line.length === 0) continue;
      this.#lines++;
      const m = parseRecord(line);
      if (m) this.#put(m);
    }
    if (this.#lines > this.#bySori.size) await this.#compact();
  }

  #append(m: BridgedMessage): void {
    if (this.#closed) return;
    this.#pending.push(`${JSON.stringify(m)}\n`);
    this.#writing ??= this.#write();
  }

  /**
   * Writes what is pending, batch after batch, until nothing is. Clears #writing in the same turn as
   * it finds nothing pending, so that a change made meanwhile always has a writer.
   */
  async #write(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#writeBatch(batch).catch((error: unknown) => {
          // The map stays right in memory; only a crash before the next good write would lose it.
          this.#log.warn("xmpp.message_ids_write_failed", { reason: (error as NodeJS.ErrnoException).code });
        });
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #writeBatch(batch: string[]): Promise<void> {
    if (this.#lines + batch.length > 2 * MAX_MESSAGES) {
      await this.#compact();
      return;
    }
    // Opened per batch, not held: a gateway runs many identities, each would hold a descriptor.
    const file = await open(this.#path, "a", 0o600);
    try {
      await file.write(batch.join(""));
      await file.sync();
    } finally {
      await file.close();
    }
    // The file's first lines made it: its name must survive a crash too.
    if (this.#lines === 0) await syncDirectory(this.#path);
    this.#lines += batch.length;
  }

  /** Rewrites the file with one line per remembered message. */
  async #compact(): Promise<void> {
    const tmp = `${this.#path}.tmp`;
    const lines = [...this.#bySori.values()].map((m) => `${JSON.stringify(m)}\n`);
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(lines.join(""));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.#path);
    await syncDirectory(this.#path);
    this.#lines = lines.length;
  }
}

/** Every identity's map, read on first use and kept in memory while the gateway runs. */
export class MessageIdMaps {
  readonly #directoryOf: (username: string) => string | undefined;
  readonly #log: Logger;
  readonly #open = new Map<string, Promise<MessageIds | undefined>>();

  constructor(options: { directoryOf(username: string): string | undefined; log: Logger }) {
    this.#directoryOf = options.directoryOf;
    this.#log = options.log;
  }

  /** The map of an identity that is running; undefined if it is not (or its file cannot be read). */
  of(username: string): Promise<MessageIds | undefined> {
    const key = username.toLowerCase();
    let ids = this.#open.get(key);
    if (!ids) {
      const dir = this.#directoryOf(key);
      if (dir === undefined) return Promise.resolve(undefined);
      ids = MessageIds.open(dir, this.#log).catch((error: unknown) => {
        this.#log.warn("xmpp.message_ids_unreadable", { reason: (error as NodeJS.ErrnoException).code });
        this.#open.delete(key);
        return undefined;
      });
      this.#open.set(key, ids);
    }
    return ids;
  }

  async close(): Promise<void> {
    const all = await Promise.all(this.#open.values());
    this.#open.clear();
    await Promise.all(all.map((ids) => ids?.close()));
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** A line of the file as a record, or undefined if it is not one (a torn write). */
function parseRecord(line: string): BridgedMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  // Written by this file only; checked enough that a damaged line cannot break the lookups.
  const m = value as Partial<BridgedMessage>;
  const ok =
    typeof m.sori === "string" &&
    typeof m.chat === "string" &&
    (m.by === "xmpp" || m.by === "sori") &&
    Array.isArray(m.xmpp) &&
    m.xmpp.every((x) => typeof x === "string");
  return ok ? (m as BridgedMessage) : undefined;
}
