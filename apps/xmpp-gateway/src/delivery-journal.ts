import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "@sori/server";
import type { OobFile } from "./oob.ts";

/** Stanza ids remembered per XMPP address, to drop a resent duplicate. */
const SEEN_PER_ADDRESS = 500;
/** Addresses whose stanza ids are remembered (the least recently active are forgotten first). */
const SEEN_ADDRESSES = 2_000;
/** Stanzas taken from XMPP and not yet held by the SDK; past this the gateway answers "busy". */
const MAX_TAKEN = 5_000;
/** Receipts waiting for the Sori person's device (the oldest are given up first). */
const MAX_RECEIPTS = 10_000;
/** Records appended before the log is folded into a new snapshot. */
const COMPACT_EVERY = 10_000;
/** How often appended records are flushed to the disk (against a power cut; a crash needs no flush). */
const FLUSH_MS = 1_000;

/** A chat message from XMPP the gateway took, kept until the SDK of its bridged identity holds it. */
export type TakenStanza = {
  /** The Sori message id chosen when it was taken: a resend after a crash uses it again. */
  messageId: string;
  /** The sender's bare JID (whose bridged identity sends it). */
  from: string;
  /** The sender's full JID: an error answer goes there. */
  fromFull: string;
  /** The bare JID it was written to (`alice@<domain>`). */
  to: string;
  stanzaId: string | undefined;
  body: string;
  wantsReceipt: boolean;
  /** XEP-0333: the sender wants chat markers (what features.sendText remembers with its ids). */
  markable?: boolean;
  /** XEP-0359: the id the sender gave it, which retractions name. */
  originId?: string;
  /** XEP-0461: the message it answers and its text without the quote, so a redo is a reply too. */
  reply?: { of: string; text: string };
  /** XEP-0066: the file it links to, fetched and sent as a Sori attachment (`body` if that fails). */
  file?: OobFile;
};

/**
 * An XEP-0184 receipt to send once the Sori person's device processed the message: from `to` to
 * `from` about stanza `of`; `chat` is the Sori chat the message is in (to look its status up).
 */
export type WantedReceipt = { from: string; to: string; of: string; chat: string };

/** Where a Sori → XMPP message is: its stanza is with the kernel, or the XMPP server answered after it. */
type OutState = "written" | "acked";

type Entry =
  | { s: number; t: "take"; v: TakenStanza }
  | { s: number; t: "handed"; m: string; receipt?: WantedReceipt }
  | { s: number; t: "receipt-due" | "receipt-sent"; m: string }
  | { s: number; t: "written"; u: string; m: string }
  | { s: number; t: "acked" | "revoked" | "confirmed"; u: string; ms: string[] };
type NewEntry = Entry extends infer E ? (E extends { s: number } ? Omit<E, "s"> : never) : never;

type Snapshot = {
  version: 1;
  seq: number;
  taken: TakenStanza[];
  seen: [string, string[]][];
  receipts: [string, WantedReceipt][];
  due: string[];
  out: [string, [string, OutState][]][];
};

/** The journal's files could not be read as the gateway wrote them. */
export class JournalError extends Error {
  readonly code: "corrupt";
  constructor(code: JournalError["code"], message: string) {
    super(message);
    this.name = "JournalError";
    this.code = code;
  }
}

/**
 * What the gateway passed on, in both directions, kept across a crash (decision 16, "Exactly once").
 * A snapshot (`journal.json`) and a log of records since it (`journal.log`, one JSON line each); a
 * record is written with one write(2) before the step it vouches for goes on, which is enough against
 * SIGKILL (the page cache outlives the process); the log is flushed to the disk every second and the
 * snapshot on every fold, against a power cut. Everything in it is bounded.
 */
export class DeliveryJournal {
  readonly #dir: string;
  readonly #log: Logger;
  #fd: number | undefined;
  #seq = 0;
  #sinceCompaction = 0;
  #dirty = false;
  #flushing = false;
  #timer: NodeJS.Timeout | undefined;
  /** Message id → stanza, in the order they were taken. */
  readonly #taken = new Map<string, TakenStanza>();
  /** Address → stanza ids (oldest first); the map's order is least recently active first. */
  readonly #seen = new Map<string, Set<string>>();
  readonly #receipts = new Map<string, WantedReceipt>();
  /** Receipts whose message was delivered while the component could not send them. */
  readonly #due = new Set<string>();
  /** Bridged username → message id → where its stanza is. */
  readonly #out = new Map<string, Map<string, OutState>>();

  private constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
  }

  /**
   * Reads the journal in `dir` (made if missing). With `trustWrites`, a Sori → XMPP message whose
   * stanza the previous run had written to the socket counts as passed on (the XMPP server is on
   * loopback, where the kernel hands the bytes over within the write); without it, only those the
   * server answered a ping after count, and the rest are sent again.
   */
  static open(dir: string, options: { log: Logger; trustWrites: boolean }): DeliveryJournal {
    const journal = new DeliveryJournal(dir, options.log);
    journal.#load(options.trustWrites);
    return journal;
  }

  // --- XMPP → Sori ------------------------------------------------------------------------------

  /** Whether this address already sent a stanza of this id (one the gateway took). */
  isDuplicate(from: string, stanzaId: string): boolean {
    return this.#seen.get(from)?.has(stanzaId) ?? false;
  }

  /** Records a stanza as taken (and its id as seen); false if the gateway holds too many already. */
  take(v: TakenStanza): boolean {
    if (this.#taken.size >= MAX_TAKEN) return false;
    return this.#record({ t: "take", v });
  }

  /** The SDK holds the message now (or it was refused and the sender told); a receipt may wait. */
  handed(messageId: string, receipt?: WantedReceipt): void {
    this.#record(receipt ? { t: "handed", m: messageId, receipt } : { t: "handed", m: messageId });
  }

  /** Whether a stanza taken under this Sori message id is not yet held by the SDK. */
  isTaken(messageId: string): boolean {
    return this.#taken.has(messageId);
  }

  /** Stanzas a previous run took and did not see held by the SDK, oldest first. */
  taken(): TakenStanza[] {
    return [...this.#taken.values()];
  }

  receiptFor(messageId: string): WantedReceipt | undefined {
    return this.#receipts.get(messageId);
  }

  /** The message was delivered but the receipt could not go out yet: it goes once the link is back. */
  receiptDue(messageId: string): void {
    if (this.#receipts.has(messageId) && !this.#due.has(messageId))
      this.#record({ t: "receipt-due", m: messageId });
  }

  /** Receipts not yet due or sent, with their message ids. */
  waitingReceipts(): [string, WantedReceipt][] {
    return [...this.#receipts].filter(([m]) => !this.#due.has(m));
  }

  /** Receipts to send once the component is online, with their message ids. */
  dueReceipts(): [string, WantedReceipt][] {
    return [...this.#due].flatMap((m) => {
      const r = this.#receipts.get(m);
      return r ? [[m, r] as [string, WantedReceipt]] : [];
    });
  }

  receiptSent(messageId: string): void {
    if (this.#receipts.has(messageId)) this.#record({ t: "receipt-sent", m: messageId });
  }

  // --- Sori → XMPP ------------------------------------------------------------------------------

  /** Whether this message of the identity's feed was passed on already (its stanza is not sent again). */
  wasPassedOn(username: string, messageId: string): boolean {
    return this.#out.get(username)?.has(messageId) ?? false;
  }

  /** The message's stanza is with the kernel, on its way to the XMPP server. */
  written(username: string, messageId: string): void {
    this.#record({ t: "written", u: username, m: messageId });
  }

  /** The XMPP server answered a ping sent after these: it took them. */
  acked(username: string, ids: string[]): void {
    if (ids.length > 0) this.#record({ t: "acked", u: username, ms: ids });
  }

  /** The link failed before the server answered after these: they go out again. */
  revoked(username: string, ids: string[]): void {
    if (ids.length > 0) this.#record({ t: "revoked", u: username, ms: ids });
  }

  /** Let go of in the identity's feed: nothing about them is needed any more. */
  confirmed(username: string, ids: string[]): void {
    if (ids.length > 0) this.#record({ t: "confirmed", u: username, ms: ids });
  }

  /** Forgets what is kept for messages no longer in the identity's feed (expired, or a lost confirm). */
  keepOnly(username: string, inFeed: ReadonlySet<string>): void {
    const stale = [...(this.#out.get(username)?.keys() ?? [])].filter((id) => !inFeed.has(id));
    this.confirmed(username, stale);
  }

  /** Flushes and closes the files. */
  close(): void {
    clearInterval(this.#timer);
    if (this.#fd === undefined) return;
    try {
      fdatasyncSync(this.#fd);
    } finally {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }

  // --- records ----------------------------------------------------------------------------------

  /** Appends a record, then applies it; false (and the state unchanged) if it could not be written. */
  #record(entry: NewEntry): boolean {
    if (this.#fd === undefined) return false;
    const full = { ...entry, s: this.#seq + 1 } as Entry;
    try {
      writeSync(this.#fd, `${JSON.stringify(full)}\n`);
    } catch (error) {
      this.#log.warn("xmpp.journal_write_failed", {
        reason: (error as NodeJS.ErrnoException).code ?? "error",
      });
      return false;
    }
    this.#seq = full.s;
    this.#dirty = true;
    this.#apply(full);
    if (++this.#sinceCompaction >= COMPACT_EVERY) {
      try {
        this.#compact();
      } catch (error) {
        // The record is in the log; folding waits for the next chance.
        this.#sinceCompaction = 0;
        this.#log.warn("xmpp.journal_compact_failed", {
          reason: (error as NodeJS.ErrnoException).code ?? "error",
        });
      }
    }
    return true;
  }

  #apply(e: Entry): void {
    switch (e.t) {
      case "take": {
        this.#taken.set(e.v.messageId, e.v);
        if (e.v.stanzaId !== undefined) this.#markSeen(e.v.from, e.v.stanzaId);
        break;
      }
      case "handed": {
        this.#taken.delete(e.m);
        if (e.receipt) {
          this.#receipts.set(e.m, e.receipt);
          if (this.#receipts.size > MAX_RECEIPTS) {
            const oldest = this.#receipts.keys().next().value!;
            this.#receipts.delete(oldest);
            this.#due.delete(oldest);
          }
        }
        break;
      }
      case "receipt-due":
        if (this.#receipts.has(e.m)) this.#due.add(e.m);
        break;
      case "receipt-sent":
        this.#receipts.delete(e.m);
        this.#due.delete(e.m);
        break;
      case "written":
        this.#outOf(e.u).set(e.m, "written");
        break;
      case "acked":
        for (const m of e.ms) this.#outOf(e.u).set(m, "acked");
        break;
      case "revoked":
      case "confirmed": {
        const out = this.#out.get(e.u);
        for (const m of e.ms) out?.delete(m);
        if (out?.size === 0) this.#out.delete(e.u);
        break;
      }
    }
  }

  #markSeen(from: string, stanzaId: string): void {
    const ids = this.#seen.get(from) ?? new Set<string>();
    // Re-inserted: the map's first address is always the least recently active one.
    this.#seen.delete(from);
    this.#seen.set(from, ids);
    ids.add(stanzaId);
    if (ids.size > SEEN_PER_ADDRESS) ids.delete(ids.values().next().value!);
    if (this.#seen.size > SEEN_ADDRESSES) this.#seen.delete(this.#seen.keys().next().value!);
  }

  #outOf(username: string): Map<string, OutState> {
    let out = this.#out.get(username);
    if (!out) this.#out.set(username, (out = new Map()));
    return out;
  }

  // --- files ------------------------------------------------------------------------------------

  get #snapshotPath(): string {
    return join(this.#dir, "journal.json");
  }

  get #logPath(): string {
    return join(this.#dir, "journal.log");
  }

  #load(trustWrites: boolean): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const snapshot = readOptional(this.#snapshotPath);
    if (snapshot !== undefined) {
      let s: Snapshot;
      try {
        s = JSON.parse(snapshot) as Snapshot;
      } catch {
        throw new JournalError("corrupt", `${this.#snapshotPath} is not the JSON the gateway writes`);
      }
      if (s.version !== 1) throw new JournalError("corrupt", `${this.#snapshotPath} has an unknown version`);
      this.#seq = s.seq;
      for (const t of s.taken) this.#taken.set(t.messageId, t);
      for (const [from, ids] of s.seen) this.#seen.set(from, new Set(ids));
      for (const [m, r] of s.receipts) this.#receipts.set(m, r);
      for (const m of s.due) this.#due.add(m);
      for (const [u, list] of s.out) this.#out.set(u, new Map(list));
    }
    const lines = (readOptional(this.#logPath) ?? "").split("\n");
    for (const [i, line] of lines.entries()) {
      if (line === "") continue;
      let e: Entry;
      try {
        e = JSON.parse(line) as Entry;
      } catch {
        // Only a power cut leaves a torn line, and only the last one: what it was about did not happen.
        if (i >= lines.length - 2) break;
        throw new JournalError("corrupt", `${this.#logPath} has a line that is not a record`);
      }
      if (e.s <= this.#seq) continue; // folded into the snapshot already (a crash before the log was cut)
      this.#seq = e.s;
      this.#apply(e);
    }
    let resend = 0;
    let inDoubt = 0;
    for (const out of this.#out.values())
      for (const [m, state] of out) {
        if (state !== "written") continue;
        inDoubt++;
        if (trustWrites) out.set(m, "acked");
        else {
          out.delete(m);
          resend++;
        }
      }
    if (this.#taken.size > 0 || inDoubt > 0)
      this.#log.info("xmpp.journal_recovered", { taken: this.#taken.size, inDoubt, resend });
    this.#compact();
    this.#timer = setInterval(() => this.#flush(), FLUSH_MS);
    this.#timer.unref();
  }

  /** Writes the whole state as a new snapshot (atomically), then starts an empty log. */
  #compact(): void {
    const snapshot: Snapshot = {
      version: 1,
      seq: this.#seq,
      taken: [...this.#taken.values()],
      seen: [...this.#seen].map(([from, ids]) => [from, [...ids]]),
      receipts: [...this.#receipts],
      due: [...this.#due],
      out: [...this.#out].map(([u, m]) => [u, [...m]]),
    };
    const tmp = `${this.#snapshotPath}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(snapshot));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#snapshotPath);
    const dir = openSync(this.#dir, "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    // Cut only once the snapshot is in place; records it holds are skipped by their sequence number.
    this.#fd ??= openSync(this.#logPath, "a", 0o600);
    ftruncateSync(this.#fd);
    this.#sinceCompaction = 0;
    this.#dirty = false;
  }

  #flush(): void {
    if (!this.#dirty || this.#flushing || this.#fd === undefined) return;
    this.#dirty = false;
    this.#flushing = true;
    fdatasync(this.#fd, () => {
      this.#flushing = false;
    });
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
