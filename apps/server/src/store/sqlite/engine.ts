import { closeSync, fsync, openSync } from "node:fs";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { emptySnapshot, type HistogramSnapshot, LATENCY_BUCKETS_S, observeInto } from "../../metrics.ts";
import { StoreError } from "../store-error.ts";

/** How the engine makes writes durable. */
export type EngineOptions = {
  /**
   * "full": a write resolves only once an fsync of the WAL covered its commit (survives power loss);
   * "normal": once committed (survives a crash of the process, not of the machine).
   */
  durability: "full" | "normal";
  /**
   * For tests of durability "full": replaces the fsync of the WAL file (`done` as fs.fsync's callback),
   * so a test decides when, and whether, a sync completes. Not for the store thread (not cloneable).
   */
  syncWal?: (done: (error: Error | null) => void) => void;
  /**
   * Checkpoint the WAL from a thread of its own every this many ms instead of inside the writer's
   * commits (absent or 0: SQLite's automatic checkpoint, every 1,000 pages). The writer still
   * checkpoints by itself once the WAL passes 40 MB, should that thread fall behind.
   */
  checkpointMs?: number;
};

/** A value a statement binds. */
export type SqlValue = string | number | Uint8Array | null;
/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

type PendingWrite = {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};
/** A committed batch waiting for a WAL sync before its callers hear of it. */
type CommittedBatch = {
  batch: PendingWrite[];
  outcomes: { ok: boolean; value: unknown }[];
  started: number;
  n: number;
};

/** Writes committed in one transaction at most. */
const MAX_BATCH = 512;
/** With a checkpoint thread, the writer checkpoints by itself only past this many WAL pages (~40 MB). */
const FALLBACK_CHECKPOINT_PAGES = 10_000;

/**
 * The storage engine under SqliteStore: prepared statements, and the one writer. Writes from one
 * event-loop turn are grouped into a single transaction (each in its own savepoint), so one fsync
 * covers many messages while every promise still resolves only after its write is durable.
 *
 * With durability "full" the fsync is not SQLite's own (synchronous=FULL would wait for it inside
 * COMMIT, and the thread could do nothing else meanwhile): SQLite commits with synchronous=NORMAL
 * and the engine fsyncs the WAL file on libuv's thread pool, while the next batch already runs. A
 * batch's promises settle only after a sync that began after its COMMIT, so nothing is acknowledged
 * before it is on disk. Later batches may read what an earlier one wrote before that is synced (a
 * resend found as a duplicate, say); their own answers wait for a later sync, which covers both.
 * SQLite still syncs the WAL before each checkpoint and the database file after it. A failed sync
 * stops all writes for good (fail-stop: after a failed fsync the kernel may have dropped the pages).
 */
export class SqliteEngine {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();
  /** Called whenever a write is undone: caches of what it read or changed must go. */
  readonly #onRollback: () => void;
  #pending: PendingWrite[] = [];
  #flushScheduled = false;
  #closed = false;
  #writesCommitted = 0;
  #writesFailed = 0;
  readonly #commitSeconds = emptySnapshot(LATENCY_BUCKETS_S);
  readonly #walPath: string;
  readonly #syncWal: ((done: (error: Error | null) => void) => void) | undefined;
  #walFd: number | undefined;
  #checkpointer: Worker | undefined;
  /** Committed batches no sync has covered yet; the next sync will (n: their count, in order). */
  #unsynced: CommittedBatch[] = [];
  #syncing = false;
  #syncFailure: StoreError | undefined;
  #closing: Promise<void> | undefined;
  /** Batches committed, and how many of them (in order) a completed sync covers. */
  #committedCount = 0;
  #durableCount = 0;
  /** Queue reads waiting until what was committed before them is durable. */
  #durableReads: { after: number; run: () => void; fail: (error: unknown) => void }[] = [];

  /** Takes over an open database (bootstrap.ts); last, starts the checkpoint thread if asked to. */
  constructor(
    db: DatabaseSync,
    files: { db: string; wal: string },
    options: EngineOptions,
    onRollback: () => void,
  ) {
    this.#db = db;
    this.#onRollback = onRollback;
    this.#walPath = files.wal;
    if (options.durability === "full") this.#syncWal = options.syncWal ?? ((done) => this.#fsyncWal(done));
    // Last, so that a constructor that throws leaves no thread behind.
    if (options.checkpointMs) this.#startCheckpointer(files.db, options.checkpointMs);
  }

  #startCheckpointer(path: string, intervalMs: number): void {
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
    const checkpointer = new Worker(new URL("./wal-checkpointer.ts", import.meta.url), {
      workerData: { path, intervalMs },
    });
    checkpointer.unref();
    // Should the thread fail, the writer checkpoints by itself again, as without it.
    checkpointer.on("error", () => undefined);
    checkpointer.once("exit", () => {
      this.#checkpointer = undefined;
      if (!this.#closed) this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
    });
    this.#checkpointer = checkpointer;
  }

  // --- statements -------------------------------------------------------------------------------

  #stmt(sql: string): StatementSync {
    let stmt = this.#stmts.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#stmts.set(sql, stmt);
    }
    return stmt;
  }

  /** The first row of a (cached) statement. */
  get(sql: string, ...params: SqlValue[]): Row | undefined {
    return this.#stmt(sql).get(...params) as Row | undefined;
  }

  /** Every row of a (cached) statement. */
  all(sql: string, ...params: SqlValue[]): Row[] {
    return this.#stmt(sql).all(...params) as Row[];
  }

  /** Runs a (cached) statement: rows changed and the last inserted rowid. */
  run(sql: string, ...params: SqlValue[]): { changes: number; lastId: number } {
    const r = this.#stmt(sql).run(...params);
    return { changes: Number(r.changes), lastId: Number(r.lastInsertRowid) };
  }

  // --- the writer -------------------------------------------------------------------------------

  /**
   * Runs `run` inside the next batch transaction; resolves with its value once the batch is durable.
   * `run` only reads and writes the database (it may run twice: see #flush) and throws to fail alone.
   */
  write<T>(run: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError("closed", "store is closed"));
    if (this.#syncFailure) return Promise.reject(this.#syncFailure);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    // A bounded batch keeps one transaction (and the event-loop pause it causes) short under overload;
    // the rest goes in the next turn, after the event loop has served sockets in between.
    const batch = this.#pending.length > MAX_BATCH ? this.#pending.splice(0, MAX_BATCH) : this.#pending;
    if (batch === this.#pending) this.#pending = [];
    if (this.#pending.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    if (batch.length === 0) return;
    if (this.#syncFailure) {
      // Queued before the sync failed: refused like any later write (nothing of them is committed).
      this.#writesFailed += batch.length;
      for (const w of batch) w.reject(this.#syncFailure);
      return;
    }
    const started = performance.now();
    // Optimistic first: the whole batch without savepoints (two statements fewer per write). Writes
    // almost never throw; if one does, everything is rolled back and the batch runs again with a
    // savepoint per write, so only the failing write is undone. Re-running is safe: a write's closure
    // only reads and writes the database, and nothing was resolved yet.
    let outcomes = this.#runBatch(batch, false);
    if (outcomes === "retry") outcomes = this.#runBatch(batch, true);
    if (outcomes === undefined) return;
    if (outcomes === "retry") {
      // Not reached: with savepoints a throwing write is contained. Never leave a caller waiting.
      for (const w of batch) w.reject(new StoreError("unavailable", "the batch could not be written"));
      return;
    }
    this.#writesCommitted += batch.length;
    const committed = { batch, outcomes, started, n: ++this.#committedCount };
    if (!this.#syncWal) {
      this.#settle(committed);
      return;
    }
    this.#unsynced.push(committed);
    if (!this.#syncing) this.#startSync();
  }

  #settle({ batch, outcomes, started }: CommittedBatch): void {
    observeInto(this.#commitSeconds, (performance.now() - started) / 1000);
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.value);
    });
  }

  /** Syncs the WAL for every batch committed so far; batches committed meanwhile wait for the next. */
  #startSync(): void {
    const covered = this.#unsynced;
    this.#unsynced = [];
    this.#syncing = true;
    this.#syncWal!((error) => {
      this.#syncing = false;
      if (error) {
        this.#syncFailure ??= new StoreError("unavailable", "could not make writes durable", {
          cause: error,
        });
        // Never known to be durable: refused, with those committed since (their sync is not tried).
        // Their senders retry after a restart, which finds each resend new or a duplicate.
        const refused = [...covered, ...this.#unsynced.splice(0)];
        this.#writesFailed += refused.reduce((n, c) => n + c.batch.length, 0);
        for (const { batch } of refused) for (const w of batch) w.reject(this.#syncFailure);
        for (const r of this.#durableReads.splice(0)) r.fail(this.#syncFailure);
      } else {
        for (const c of covered) this.#settle(c);
        this.#durableCount = covered.at(-1)!.n;
        const ready = this.#durableReads.filter((r) => r.after <= this.#durableCount);
        this.#durableReads = this.#durableReads.filter((r) => r.after > this.#durableCount);
        for (const r of ready) r.run();
      }
      if (this.#unsynced.length > 0) this.#startSync();
    });
  }

  #fsyncWal(done: (error: Error | null) => void): void {
    try {
      // Opened once SQLite has created it (at the first commit); fsync needs no write access.
      this.#walFd ??= openSync(this.#walPath, "r");
    } catch (error) {
      done(error as Error);
      return;
    }
    fsync(this.#walFd, done);
  }

  /**
   * Runs a batch in one transaction. Returns the outcomes once committed; "retry" if a write threw and
   * there were no savepoints (the transaction is rolled back); undefined if the database failed (every
   * write rejected, or the failing one rejected and the rest queued again).
   */
  #runBatch(
    batch: PendingWrite[],
    savepoints: boolean,
  ): { ok: boolean; value: unknown }[] | "retry" | undefined {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.#stmt("BEGIN IMMEDIATE").run();
    } catch (error) {
      for (const w of batch)
        w.reject(new StoreError("unavailable", "database is unavailable", { cause: error }));
      this.#writesFailed += batch.length;
      return undefined;
    }
    for (const w of batch) {
      if (!savepoints) {
        try {
          outcomes.push({ ok: true, value: w.run() });
        } catch {
          this.#rollback();
          return "retry";
        }
        continue;
      }
      try {
        this.#stmt("SAVEPOINT w").run();
      } catch (error) {
        this.#abandon(batch, error);
        return undefined;
      }
      try {
        const value = w.run();
        this.#stmt("RELEASE w").run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        // The caches may hold what the rolled-back write read or changed.
        this.#onRollback();
        // SQLite may already have rolled the whole transaction back (a full disk or an I/O error does):
        // this write fails, and the others of the batch, undone with it or not run yet, go again in a
        // fresh transaction (each round drops one write, so this ends).
        if (!this.#db.isTransaction) {
          w.reject(asStoreError(error));
          this.#writesFailed += 1;
          this.#pending.unshift(...batch.filter((x) => x !== w));
          if (!this.#flushScheduled && this.#pending.length > 0) {
            this.#flushScheduled = true;
            setImmediate(() => this.#flush());
          }
          return undefined;
        }
        try {
          this.#stmt("ROLLBACK TO w").run();
          this.#stmt("RELEASE w").run();
        } catch (rollbackError) {
          this.#abandon(batch, rollbackError);
          return undefined;
        }
        outcomes.push({ ok: false, value: asStoreError(error) });
      }
    }
    try {
      this.#stmt("COMMIT").run();
    } catch (error) {
      this.#abandon(batch, error);
      return undefined;
    }
    return outcomes;
  }

  #rollback(): void {
    this.#onRollback();
    try {
      this.#db.exec("ROLLBACK");
    } catch {
      // A failed COMMIT may already have rolled back; nothing was acknowledged either way.
    }
  }

  /** Rolls back what is left of the batch's transaction and fails every write in it: nothing was kept. */
  #abandon(batch: PendingWrite[], cause: unknown): void {
    if (this.#db.isTransaction) this.#rollback();
    else this.#onRollback();
    this.#writesFailed += batch.length;
    const error = asStoreError(cause);
    for (const w of batch)
      w.reject(
        error instanceof StoreError && error.code === "full"
          ? error
          : new StoreError("unavailable", "could not commit to the database", { cause }),
      );
  }

  // --- durable reads ----------------------------------------------------------------------------

  /**
   * Runs a read once every batch committed so far is durable. A queue read must not hand out an
   * entry a power loss could still take back: its seq could then be given again to another message,
   * which the device, having seen that seq, would skip.
   */
  durableRead<T>(read: () => T): Promise<T> {
    if (this.#syncFailure) return Promise.reject(this.#syncFailure);
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        try {
          resolve(read());
        } catch (error) {
          reject(error);
        }
      };
      if (!this.#syncWal || this.#durableCount === this.#committedCount) run();
      else this.#durableReads.push({ after: this.#committedCount, run, fail: reject });
    });
  }

  // --- state and shutdown -----------------------------------------------------------------------

  /** Set by close(): from then on every write is refused. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The writer's figures for monitoring. */
  writerStats(): {
    pendingWrites: number;
    writesCommitted: number;
    writesFailed: number;
    writable: boolean;
    commitSeconds: HistogramSnapshot;
  } {
    return {
      pendingWrites: this.#pending.length,
      writesCommitted: this.#writesCommitted,
      writesFailed: this.#writesFailed,
      writable: this.#syncFailure === undefined,
      commitSeconds: this.#commitSeconds,
    };
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    // Everything accepted before close is committed (or rejected) now, in as many batches as it takes.
    while (this.#pending.length > 0) this.#flush();
    // Their syncs too: an answer must not wait forever, and the fd must outlive the last fsync.
    this.#closing = this.#syncsDone().then(async () => {
      // Stopped first: the last connection to close checkpoints everything and removes the WAL.
      const checkpointer = this.#checkpointer;
      if (checkpointer) {
        await new Promise((resolve) => {
          checkpointer.once("message", resolve);
          checkpointer.once("exit", resolve);
          checkpointer.postMessage("stop");
        });
        await checkpointer.terminate();
      }
      this.#db.close();
      if (this.#walFd !== undefined) closeSync(this.#walFd);
    });
    return this.#closing;
  }

  /** Settles once every batch committed so far is synced, or its sync failed (close goes on either way). */
  #syncsDone(): Promise<void> {
    if (!this.#syncing && this.#unsynced.length === 0) return Promise.resolve();
    return this.durableRead(() => undefined).catch(() => undefined);
  }
}

/**
 * SQLite's own errors (a full disk or size cap, I/O errors, a locked file) become typed StoreErrors;
 * the store's own typed errors pass through unchanged.
 */
function asStoreError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const e = error as { code?: unknown; errcode?: unknown };
  if (e?.code !== "ERR_SQLITE_ERROR") return error;
  // 13 is SQLITE_FULL: "database or disk is full" (also what max_page_count produces).
  if (typeof e.errcode === "number" && (e.errcode & 0xff) === 13)
    return new StoreError("full", "the database or the disk is full", { cause: error });
  return new StoreError("unavailable", "the database failed", { cause: error });
}
