import { closeSync, fsync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import type { DeliveryKind } from "@sori/protocol";
import { type GroupState, MembershipCache } from "./membership-cache.ts";
import { migratePrivacy } from "./sqlite-privacy-schema.ts";
import { queuedDelivery } from "./queued-delivery.ts";
import { migrateSeenKey, SCHEMA_SQL, SCHEMA_VERSION } from "./sqlite-schema.ts";
import type {
  BlobRecord,
  CommitOutcome,
  CreateGroupOutcome,
  DeviceRecord,
  Enqueued,
  GroupRecord,
  NewBlob,
  NewDevice,
  NewDeviceLink,
  NewSession,
  OutgoingMessage,
  QueuedDelivery,
  SendOutcome,
  SessionRecord,
  Store,
  StoreStats,
  UserRecord,
} from "./store.ts";
import { StoreError } from "./store-error.ts";
import { emptySnapshot, LATENCY_BUCKETS_S, observeInto } from "../metrics.ts";

export type SqliteStoreOptions = {
  dataDir: string;
  /**
   * "full": a write resolves only once an fsync of the WAL covered its commit (survives power loss);
   * "normal": once committed (survives a crash of the process, not of the machine).
   */
  durability: "full" | "normal";
  /**
   * Largest size of the database file in bytes (0 or absent: no cap). Past it new writes fail with
   * StoreError("full"), as on a full disk, while reads and deletions (acks) keep working.
   */
  maxBytes?: number;
  /**
   * SQLite's page cache in MB (absent: SQLite's 2 MB). Pages are cached only once read, so a small
   * database costs no more; a large one keeps the group and member lookups of `send` off the disk.
   */
  cacheMb?: number;
  /**
   * Reads the first this many MB of the database file through a memory map instead of read calls
   * (absent or 0: none). Writes still go through SQLite's journal as before.
   */
  mmapMb?: number;
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

type Row = Record<string, unknown>;
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

const DB_FILE = "sori.db";
/** Writes committed in one transaction at most. */
const MAX_BATCH = 512;
/** With a checkpoint thread, the writer checkpoints by itself only past this many WAL pages (~40 MB). */
const FALLBACK_CHECKPOINT_PAGES = 10_000;

/**
 * The default store: one SQLite file in WAL mode. Writes from one event-loop turn are grouped into a
 * single transaction (each in its own savepoint), so one fsync covers many messages while every
 * promise still resolves only after its write is durable.
 *
 * With durability "full" the fsync is not SQLite's own (synchronous=FULL would wait for it inside
 * COMMIT, and the thread could do nothing else meanwhile): SQLite commits with synchronous=NORMAL
 * and the store fsyncs the WAL file on libuv's thread pool, while the next batch already runs. A
 * batch's promises settle only after a sync that began after its COMMIT, so nothing is acknowledged
 * before it is on disk. Later batches may read what an earlier one wrote before that is synced (a
 * resend found as a duplicate, say); their own answers wait for a later sync, which covers both.
 * SQLite still syncs the WAL before each checkpoint and the database file after it. A failed sync
 * stops all writes for good (fail-stop: after a failed fsync the kernel may have dropped the pages).
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();
  /** Invariant: every write to groups, group_members or devices.revoked_at/activated_at invalidates it. */
  readonly #membership = new MembershipCache();
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

  constructor(options: SqliteStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.#db = new DatabaseSync(join(options.dataDir, DB_FILE));
    this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#walPath = join(options.dataDir, `${DB_FILE}-wal`);
    if (options.durability === "full") this.#syncWal = options.syncWal ?? ((done) => this.#fsyncWal(done));
    this.#db.exec("PRAGMA foreign_keys = ON");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    if (options.cacheMb) this.#db.exec(`PRAGMA cache_size = ${-Math.floor(options.cacheMb * 1024)}`);
    if (options.mmapMb) this.#db.exec(`PRAGMA mmap_size = ${Math.floor(options.mmapMb * 1048576)}`);
    this.#db.exec(SCHEMA_SQL);
    if (options.maxBytes) {
      const pageSize = Number(this.#get("PRAGMA page_size")?.page_size ?? 4096);
      this.#db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
    migratePrivacy(this.#db);
    const version = this.#get("SELECT value FROM meta WHERE key = 'schema'")?.value;
    if (version === undefined) {
      this.#run("INSERT INTO meta (key, value) VALUES ('schema', ?)", String(SCHEMA_VERSION));
    } else if (Number(version) > SCHEMA_VERSION) {
      throw new StoreError(
        "schema-too-new",
        `database schema ${version} is newer than this server (${SCHEMA_VERSION})`,
      );
    }
    migrateSeenKey(this.#db);
    // Last, so that a constructor that throws leaves no thread behind.
    if (options.checkpointMs) {
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
      const checkpointer = new Worker(new URL("./wal-checkpointer.ts", import.meta.url), {
        workerData: { path: join(options.dataDir, DB_FILE), intervalMs: options.checkpointMs },
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
  }

  /** The database file, for tests that inspect what is at rest. */
  static databaseFiles(dataDir: string): string[] {
    return [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`].map((f) => join(dataDir, f));
  }

  // --- plumbing -------------------------------------------------------------------------------

  #stmt(sql: string): StatementSync {
    let stmt = this.#stmts.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#stmts.set(sql, stmt);
    }
    return stmt;
  }

  #get(sql: string, ...params: (string | number | Uint8Array | null)[]): Row | undefined {
    return this.#stmt(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: (string | number | Uint8Array | null)[]): Row[] {
    return this.#stmt(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: (string | number | Uint8Array | null)[]): { changes: number; lastId: number } {
    const r = this.#stmt(sql).run(...params);
    return { changes: Number(r.changes), lastId: Number(r.lastInsertRowid) };
  }

  #write<T>(run: () => T): Promise<T> {
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
        // The cache may hold what the rolled-back write read or changed.
        this.#membership.clear();
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
    this.#membership.clear();
    try {
      this.#db.exec("ROLLBACK");
    } catch {
      // A failed COMMIT may already have rolled back; nothing was acknowledged either way.
    }
  }

  /** Rolls back what is left of the batch's transaction and fails every write in it: nothing was kept. */
  #abandon(batch: PendingWrite[], cause: unknown): void {
    if (this.#db.isTransaction) this.#rollback();
    else this.#membership.clear();
    this.#writesFailed += batch.length;
    const error = asStoreError(cause);
    for (const w of batch)
      w.reject(
        error instanceof StoreError && error.code === "full"
          ? error
          : new StoreError("unavailable", "could not commit to the database", { cause }),
      );
  }

  // --- accounts ---------------------------------------------------------------------------------

  createUserWithDevice(
    user: UserRecord,
    device: NewDevice,
    session: NewSession,
  ): Promise<"created" | "username-taken"> {
    return this.#write(() => {
      const key = user.username.toLowerCase();
      if (this.#get("SELECT 1 AS x FROM users WHERE username_key = ?", key)) return "username-taken" as const;
      this.#run(
        "INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        user.userId,
        user.username,
        key,
        user.passwordHash,
        user.createdAt,
      );
      this.#insertDevice(device);
      this.#insertSession(session);
      return "created" as const;
    });
  }

  #insertDevice(device: NewDevice): void {
    this.#run(
      "INSERT INTO devices (id, user_id, name, signature_key, created_at) VALUES (?, ?, ?, ?, ?)",
      device.deviceId,
      device.userId,
      device.name,
      device.signatureKey,
      device.createdAt,
    );
  }

  #insertSession(session: NewSession): void {
    this.#run(
      "INSERT INTO sessions (token_hash, device_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      session.tokenHash,
      session.deviceId,
      session.createdAt,
      session.expiresAt,
    );
  }

  findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const row = this.#get("SELECT * FROM users WHERE username_key = ?", username.toLowerCase());
    return Promise.resolve(row ? toUser(row) : undefined);
  }

  addDevice(device: NewDevice, session: NewSession): Promise<void> {
    return this.#write(() => {
      this.#insertDevice(device);
      this.#insertSession(session);
    });
  }

  findSession(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    const row = this.#get(
      `SELECT s.device_id, s.expires_at, d.user_id FROM sessions s JOIN devices d ON d.id = s.device_id
       WHERE s.token_hash = ? AND d.revoked_at IS NULL`,
      tokenHash,
    );
    if (!row || Number(row.expires_at) <= now) return Promise.resolve(undefined);
    return Promise.resolve({
      deviceId: String(row.device_id),
      userId: String(row.user_id),
      expiresAt: Number(row.expires_at),
    });
  }

  extendSession(tokenHash: string, expiresAt: number): Promise<void> {
    return this.#write(() => {
      this.#run(
        "UPDATE sessions SET expires_at = ? WHERE token_hash = ? AND expires_at < ?",
        expiresAt,
        tokenHash,
        expiresAt,
      );
    });
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.#write(() => {
      this.#run("DELETE FROM sessions WHERE token_hash = ?", tokenHash);
    });
  }

  revokeDevice(deviceId: string, now: number): Promise<void> {
    return this.#write(() => {
      this.#run("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, deviceId);
      this.#membership.clear();
      this.#run("DELETE FROM sessions WHERE device_id = ?", deviceId);
      this.#run("DELETE FROM key_packages WHERE device_id = ?", deviceId);
      this.#ackRange(deviceId, Number.MAX_SAFE_INTEGER);
      this.#forgetDeviceBlobsAndLinks(deviceId, now);
    });
  }

  /** A revoked device will fetch nothing: attachments only it still lacked can go, its link codes too. */
  #forgetDeviceBlobsAndLinks(deviceId: string, now: number): void {
    const waiting = this.#all("SELECT blob_id FROM blob_pending WHERE device_id = ?", deviceId);
    this.#run("DELETE FROM blob_pending WHERE device_id = ?", deviceId);
    for (const r of waiting) {
      if (!this.#get("SELECT 1 AS x FROM blob_pending WHERE blob_id = ? LIMIT 1", String(r.blob_id)))
        this.#run("UPDATE blobs SET expires_at = MIN(expires_at, ?) WHERE id = ?", now, String(r.blob_id));
    }
    this.#run("DELETE FROM device_links WHERE device_id = ?", deviceId);
  }

  listDevices(userId: string): Promise<DeviceRecord[]> {
    return Promise.resolve(
      this.#all("SELECT * FROM devices WHERE user_id = ? ORDER BY created_at", userId).map(toDevice),
    );
  }

  touchDevice(deviceId: string, now: number): Promise<void> {
    return this.#write(() => {
      this.#run("UPDATE devices SET last_seen_at = ? WHERE id = ?", now, deviceId);
    });
  }

  // --- KeyPackages ------------------------------------------------------------------------------

  addKeyPackages(
    deviceId: string,
    keyPackages: Uint8Array[],
    lastResort: Uint8Array | undefined,
    notice: OutgoingMessage,
    maxOneTime: number,
  ): Promise<{ remaining: number; enqueued: Enqueued }> {
    return this.#write(() => {
      // A resent upload repeats KeyPackages already stored: only new ones are added and counted.
      const fresh = keyPackages.filter(
        (kp) => !this.#get("SELECT 1 AS x FROM key_packages WHERE device_id = ? AND data = ?", deviceId, kp),
      );
      // Checked inside the transaction: concurrent uploads cannot pass the cap together.
      const held = this.#countOneTime(deviceId);
      if (held + fresh.length > maxOneTime) {
        throw new StoreError(
          "limit",
          `a device may keep at most ${maxOneTime} KeyPackages on the server (it has ${held})`,
          { limit: maxOneTime },
        );
      }
      for (const kp of fresh)
        this.#run("INSERT INTO key_packages (device_id, data) VALUES (?, ?)", deviceId, kp);
      let enqueued: Enqueued = [];
      if (lastResort) {
        this.#run("DELETE FROM key_packages WHERE device_id = ? AND last_resort = 1", deviceId);
        this.#run(
          "INSERT OR IGNORE INTO key_packages (device_id, data, last_resort) VALUES (?, ?, 1)",
          deviceId,
          lastResort,
        );
        const activated = this.#run(
          "UPDATE devices SET activated_at = ? WHERE id = ? AND activated_at IS NULL AND revoked_at IS NULL",
          notice.sentAt,
          deviceId,
        );
        if (activated.changes > 0) {
          this.#membership.clear();
          const others = this.#all(
            `SELECT id FROM devices WHERE user_id = (SELECT user_id FROM devices WHERE id = ?) AND id != ?
             AND revoked_at IS NULL AND activated_at IS NOT NULL`,
            deviceId,
            deviceId,
          ).map((r) => String(r.id));
          if (others.length > 0) enqueued = this.#enqueue({ ...notice, recipients: others });
        }
      }
      return { remaining: this.#countOneTime(deviceId), enqueued };
    });
  }

  #countOneTime(deviceId: string): number {
    return Number(
      this.#get("SELECT count(*) AS n FROM key_packages WHERE device_id = ? AND last_resort = 0", deviceId)
        ?.n,
    );
  }

  keyPackageStatus(deviceId: string): Promise<{ remaining: number; hasLastResort: boolean }> {
    const lr = this.#get("SELECT 1 AS x FROM key_packages WHERE device_id = ? AND last_resort = 1", deviceId);
    return Promise.resolve({ remaining: this.#countOneTime(deviceId), hasLastResort: lr !== undefined });
  }

  claimKeyPackages(deviceIds: string[]): ReturnType<Store["claimKeyPackages"]> {
    return this.#write(() => {
      const claimed: { deviceId: string; userId: string; keyPackage: Uint8Array; remaining: number }[] = [];
      const missing: string[] = [];
      for (const deviceId of new Set(deviceIds)) {
        const device = this.#get(
          "SELECT user_id FROM devices WHERE id = ? AND revoked_at IS NULL AND activated_at IS NOT NULL",
          deviceId,
        );
        // One-time packages first; the last-resort one is handed out without being consumed.
        const kp = device
          ? this.#get(
              "SELECT id, data, last_resort FROM key_packages WHERE device_id = ? ORDER BY last_resort, id LIMIT 1",
              deviceId,
            )
          : undefined;
        if (!device || !kp) {
          missing.push(deviceId);
          continue;
        }
        if (Number(kp.last_resort) === 0) this.#run("DELETE FROM key_packages WHERE id = ?", Number(kp.id));
        claimed.push({
          deviceId,
          userId: String(device.user_id),
          keyPackage: kp.data as Uint8Array,
          remaining: this.#countOneTime(deviceId),
        });
      }
      return { claimed, missing };
    });
  }

  // --- directory --------------------------------------------------------------------------------

  usersByUsername(usernames: string[]): ReturnType<Store["usersByUsername"]> {
    const out = [];
    for (const name of new Set(usernames.map((u) => u.toLowerCase()))) {
      const row = this.#get("SELECT * FROM users WHERE username_key = ?", name);
      if (row) out.push(this.#withDevices(toUser(row)));
    }
    return Promise.resolve(out);
  }

  usersById(userIds: string[]): ReturnType<Store["usersById"]> {
    const out = [];
    for (const id of new Set(userIds)) {
      const row = this.#get("SELECT * FROM users WHERE id = ?", id);
      if (row) out.push(this.#withDevices(toUser(row)));
    }
    return Promise.resolve(out);
  }

  #withDevices(user: UserRecord): { user: UserRecord; devices: DeviceRecord[] } {
    const devices = this.#all("SELECT * FROM devices WHERE user_id = ? ORDER BY created_at", user.userId).map(
      toDevice,
    );
    return { user, devices };
  }

  devicesById(deviceIds: string[]): Promise<DeviceRecord[]> {
    const out: DeviceRecord[] = [];
    for (const id of new Set(deviceIds)) {
      const row = this.#get("SELECT * FROM devices WHERE id = ?", id);
      if (row) out.push(toDevice(row));
    }
    return Promise.resolve(out);
  }

  // --- groups (MLS Delivery Service) ------------------------------------------------------------

  createGroup(
    groupId: string,
    epoch: number,
    creator: { deviceId: string; userId: string },
    members: string[],
    welcome: OutgoingMessage | undefined,
  ): Promise<CreateGroupOutcome> {
    return this.#write((): CreateGroupOutcome => {
      const existing = this.#get("SELECT epoch FROM groups WHERE id = ?", groupId);
      if (existing) {
        const mine =
          welcome &&
          this.#get(
            "SELECT 1 AS x FROM seen WHERE message_id = ? AND sender_device = ?",
            welcome.messageId,
            creator.deviceId,
          );
        if (mine) return { status: "duplicate", epoch: Number(existing.epoch) };
        return { status: "exists" };
      }
      const now = welcome?.sentAt ?? Date.now();
      this.#run("INSERT INTO groups (id, epoch, created_at) VALUES (?, ?, ?)", groupId, epoch, now);
      this.#membership.dropGroup(groupId);
      const all = new Set([creator.deviceId, ...members]);
      for (const d of all) this.#insertMember(groupId, d);
      if (!welcome) return { status: "created", epoch, enqueued: [] };
      this.#markSeen(creator.deviceId, welcome.messageId, now, epoch);
      return { status: "created", epoch, enqueued: this.#enqueue(welcome) };
    });
  }

  #insertMember(groupId: string, deviceId: string): void {
    const device = this.#get("SELECT revoked_at FROM devices WHERE id = ?", deviceId);
    if (!device) throw new StoreError("unknown-device", "a member device does not exist");
    this.#run("INSERT OR IGNORE INTO group_members (group_id, device_id) VALUES (?, ?)", groupId, deviceId);
    this.#membership.dropGroup(groupId);
  }

  getGroup(groupId: string): Promise<GroupRecord | undefined> {
    const group = this.#get("SELECT epoch FROM groups WHERE id = ?", groupId);
    if (!group) return Promise.resolve(undefined);
    return Promise.resolve({ groupId, epoch: Number(group.epoch), members: this.#members(groupId) });
  }

  /**
   * A group's epoch and members in one query: with many groups most sends miss the membership cache,
   * and one statement instead of two took about 20 % off that miss (docs/BENCHMARKS.md). A group
   * without members reads as absent, which `send` treats alike (the sender is not a member).
   */
  #groupState(groupId: string): GroupState | undefined {
    const rows = this.#all(
      `SELECT g.epoch, gm.device_id, d.user_id, d.revoked_at FROM groups g
       JOIN group_members gm ON gm.group_id = g.id JOIN devices d ON d.id = gm.device_id WHERE g.id = ?`,
      groupId,
    );
    if (rows.length === 0) return undefined;
    return {
      epoch: Number(rows[0]!.epoch),
      members: rows.map(toMember),
    };
  }

  #members(groupId: string): GroupRecord["members"] {
    return this.#all(
      `SELECT gm.device_id, d.user_id, d.revoked_at FROM group_members gm JOIN devices d ON d.id = gm.device_id
       WHERE gm.group_id = ?`,
      groupId,
    ).map(toMember);
  }

  groupsOfDevice(deviceId: string): Promise<{ groupId: string; epoch: number }[]> {
    return Promise.resolve(
      this.#all(
        "SELECT g.id, g.epoch FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.device_id = ? ORDER BY g.created_at",
        deviceId,
      ).map((r) => ({ groupId: String(r.id), epoch: Number(r.epoch) })),
    );
  }

  applyCommit(
    groupId: string,
    fromEpoch: number,
    add: string[],
    remove: string[],
    commit: OutgoingMessage,
    welcome: OutgoingMessage | undefined,
  ): Promise<CommitOutcome> {
    return this.#write((): CommitOutcome => {
      const group = this.#get("SELECT epoch FROM groups WHERE id = ?", groupId);
      if (!group) return { status: "not-found" };
      const seen = this.#get(
        "SELECT epoch FROM seen WHERE message_id = ? AND sender_device = ?",
        commit.messageId,
        commit.senderDeviceId,
      );
      if (seen) return { status: "duplicate", epoch: Number(seen.epoch) };
      const members = this.#members(groupId);
      if (!members.some((m) => m.deviceId === commit.senderDeviceId && !m.revoked))
        return { status: "not-member" };
      const epoch = Number(group.epoch);
      if (epoch !== fromEpoch) return { status: "stale-epoch", epoch };
      const newEpoch = epoch + 1;
      // Every current member except the committer processes the commit, removed ones included,
      // so they learn they are out.
      const recipients = members
        .filter((m) => m.deviceId !== commit.senderDeviceId && !m.revoked)
        .map((m) => m.deviceId);
      for (const d of remove)
        this.#run("DELETE FROM group_members WHERE group_id = ? AND device_id = ?", groupId, d);
      for (const d of add) this.#insertMember(groupId, d);
      this.#run("UPDATE groups SET epoch = ? WHERE id = ?", newEpoch, groupId);
      this.#membership.dropGroup(groupId);
      this.#markSeen(commit.senderDeviceId, commit.messageId, commit.sentAt, newEpoch);
      const enqueued = recipients.length > 0 ? this.#enqueue({ ...commit, recipients }) : [];
      if (welcome && add.length > 0) enqueued.push(...this.#enqueue({ ...welcome, recipients: add }));
      return { status: "accepted", epoch: newEpoch, enqueued };
    });
  }

  acceptMessage(message: Omit<OutgoingMessage, "recipients">): Promise<SendOutcome> {
    return this.#write((): SendOutcome => {
      const seen = this.#get(
        "SELECT accepted_at FROM seen WHERE message_id = ? AND sender_device = ?",
        message.messageId,
        message.senderDeviceId,
      );
      if (seen) return { status: "duplicate", sentAt: Number(seen.accepted_at) };
      const groupId = message.groupId ?? "";
      const group = this.#membership.group(groupId, () => this.#groupState(groupId));
      const members = group?.members ?? [];
      if (!members.some((m) => m.deviceId === message.senderDeviceId && !m.revoked))
        return { status: "not-member" };
      const epoch = group!.epoch;
      if (message.epoch !== epoch) return { status: "stale-epoch", epoch };
      // Every active device of every member user must be in the group before anyone may send,
      // so a device that logged in receives everything sent after its login.
      const revokedDevices = members.filter((m) => m.revoked).map((m) => m.deviceId);
      const memberIds = new Set(members.map((m) => m.deviceId));
      const missingDevices: string[] = [];
      for (const userId of new Set(members.map((m) => m.userId))) {
        const active = this.#membership.activeDevices(userId, () =>
          this.#all(
            "SELECT id FROM devices WHERE user_id = ? AND revoked_at IS NULL AND activated_at IS NOT NULL",
            userId,
          ).map((r) => String(r.id)),
        );
        for (const id of active) {
          if (!memberIds.has(id)) missingDevices.push(id);
        }
      }
      if (missingDevices.length > 0 || revokedDevices.length > 0) {
        return { status: "group-outdated", missingDevices, revokedDevices };
      }
      const recipients = members.filter((m) => m.deviceId !== message.senderDeviceId).map((m) => m.deviceId);
      if (
        message.blobs &&
        !this.#referenceBlobs(message.blobs, recipients, message.blobsExpireAt ?? message.sentAt)
      )
        return { status: "blob-missing" };
      this.#markSeen(message.senderDeviceId, message.messageId, message.sentAt, epoch);
      const enqueued = recipients.length > 0 ? this.#enqueue({ ...message, recipients }) : [];
      return { status: "accepted", sentAt: message.sentAt, enqueued };
    });
  }

  #markSeen(deviceId: string, messageId: string, at: number, epoch: number): void {
    this.#run(
      "INSERT INTO seen (sender_device, message_id, accepted_at, epoch) VALUES (?, ?, ?, ?)",
      deviceId,
      messageId,
      at,
      epoch,
    );
  }

  #enqueue(m: OutgoingMessage): Enqueued {
    const { lastId: rowId } = this.#run(
      `INSERT INTO messages (kind, group_id, message_id, sender_user, sender_device, epoch, data, sent_at, remaining, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.kind,
      m.groupId,
      m.messageId,
      m.senderUserId,
      m.senderDeviceId,
      m.epoch,
      m.data,
      m.sentAt,
      m.recipients.length,
      m.expiresAt ?? null,
    );
    return m.recipients.map((deviceId) => {
      const { lastId: seq } = this.#run(
        "INSERT INTO queue (device_id, message) VALUES (?, ?)",
        deviceId,
        rowId,
      );
      return { deviceId, delivery: queuedDelivery(m, seq) };
    });
  }

  // --- queues -----------------------------------------------------------------------------------

  /**
   * Runs a read once every batch committed so far is durable. A queue read must not hand out an
   * entry a power loss could still take back: its seq could then be given again to another message,
   * which the device, having seen that seq, would skip.
   */
  #durableRead<T>(read: () => T): Promise<T> {
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

  pending(deviceId: string, afterSeq: number, limit: number): Promise<QueuedDelivery[]> {
    return this.#durableRead(() => this.#pendingNow(deviceId, afterSeq, limit));
  }

  #pendingNow(deviceId: string, afterSeq: number, limit: number): QueuedDelivery[] {
    const rows = this.#all(
      `SELECT q.seq, m.kind, m.group_id, m.message_id, m.sender_user, m.sender_device, m.epoch, m.data, m.sent_at
       FROM queue q JOIN messages m ON m.id = q.message
       WHERE q.device_id = ? AND q.seq > ? AND (m.expires_at IS NULL OR m.expires_at > ?) ORDER BY q.seq LIMIT ?`,
      deviceId,
      afterSeq,
      Date.now(),
      limit,
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      kind: String(r.kind) as DeliveryKind,
      groupId: r.group_id === null ? null : String(r.group_id),
      messageId: String(r.message_id),
      senderUserId: String(r.sender_user),
      senderDeviceId: String(r.sender_device),
      epoch: r.epoch === null ? null : Number(r.epoch),
      data: (r.data as Uint8Array | null) ?? null,
      sentAt: Number(r.sent_at),
    }));
  }

  ack(deviceId: string, upTo: number): Promise<number> {
    return this.#write(() => this.#ackRange(deviceId, upTo));
  }

  #ackRange(deviceId: string, upTo: number): number {
    const rows = this.#all(
      "DELETE FROM queue WHERE device_id = ? AND seq <= ? RETURNING message",
      deviceId,
      upTo,
    );
    for (const r of rows) {
      const id = Number(r.message);
      // Most messages have one recipient left (always in 1:1 groups): one statement deletes them.
      if (this.#run("DELETE FROM messages WHERE id = ? AND remaining <= 1", id).changes === 0)
        this.#run("UPDATE messages SET remaining = remaining - 1 WHERE id = ?", id);
    }
    return rows.length;
  }

  pruneSeen(olderThan: number, limit: number): Promise<number> {
    return this.#write(
      () =>
        this.#run(
          `DELETE FROM seen WHERE (message_id, sender_device) IN
           (SELECT message_id, sender_device FROM seen WHERE accepted_at < ? LIMIT ?)`,
          olderThan,
          limit,
        ).changes,
    );
  }

  stats(): Promise<StoreStats> {
    if (this.#closed) return Promise.reject(new StoreError("closed", "store is closed"));
    try {
      const queued = this.#get("SELECT count(*) AS n FROM queue");
      return Promise.resolve({
        queuedEntries: Number(queued?.n),
        pendingWrites: this.#pending.length,
        writesCommitted: this.#writesCommitted,
        writesFailed: this.#writesFailed,
        writable: this.#syncFailure === undefined,
        commitSeconds: this.#commitSeconds,
      });
    } catch (error) {
      return Promise.reject(new StoreError("unavailable", "database is unavailable", { cause: error }));
    }
  }

  // --- disappearing messages, retention, attachments (issue 5) --------------------------------

  purgeExpiredMessages(now: number, limit: number): Promise<number> {
    // A read first: most seconds nothing expires, and then no write transaction is opened.
    const due = this.#all("SELECT id FROM messages WHERE expires_at <= ? LIMIT ?", now, limit);
    if (due.length === 0) return Promise.resolve(0);
    return this.#write(() => this.#deleteMessages(due.map((r) => Number(r.id))));
  }

  purgeUndelivered(olderThan: number, limit: number): Promise<number> {
    const due = this.#all("SELECT id FROM messages WHERE sent_at < ? LIMIT ?", olderThan, limit);
    if (due.length === 0) return Promise.resolve(0);
    return this.#write(() => this.#deleteMessages(due.map((r) => Number(r.id))));
  }

  #deleteMessages(ids: number[]): number {
    let n = 0;
    for (const id of ids) {
      this.#run("DELETE FROM queue WHERE message = ?", id);
      n += this.#run("DELETE FROM messages WHERE id = ?", id).changes;
    }
    return n;
  }

  createBlob(blob: NewBlob): Promise<void> {
    return this.#write(() => {
      this.#run(
        "INSERT INTO blobs (id, owner_device, size, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        blob.blobId,
        blob.ownerDevice,
        blob.size,
        blob.createdAt,
        blob.expiresAt,
      );
    });
  }

  getBlob(blobId: string): Promise<BlobRecord | undefined> {
    const r = this.#get("SELECT * FROM blobs WHERE id = ?", blobId);
    return Promise.resolve(
      r && {
        blobId,
        ownerDevice: String(r.owner_device),
        size: Number(r.size),
        received: Number(r.received),
        referenced: Number(r.referenced) === 1,
        createdAt: Number(r.created_at),
        expiresAt: Number(r.expires_at),
      },
    );
  }

  unsentBlobs(deviceId: string, now: number): Promise<number> {
    const r = this.#get(
      "SELECT COUNT(*) AS n FROM blobs WHERE owner_device = ? AND referenced = 0 AND expires_at > ?",
      deviceId,
      now,
    );
    return Promise.resolve(Number(r?.n ?? 0));
  }

  setBlobReceived(blobId: string, received: number): Promise<void> {
    return this.#write(() => {
      this.#run("UPDATE blobs SET received = ? WHERE id = ?", received, blobId);
    });
  }

  /** Inside a send: every blob must be complete; recipients must fetch it; expiry follows the message. */
  #referenceBlobs(blobIds: string[], recipients: string[], expiresAt: number): boolean {
    for (const id of blobIds) {
      const b = this.#get("SELECT size, received FROM blobs WHERE id = ?", id);
      if (!b || Number(b.received) !== Number(b.size)) return false;
    }
    for (const id of blobIds) {
      for (const d of recipients)
        this.#run("INSERT OR IGNORE INTO blob_pending (blob_id, device_id) VALUES (?, ?)", id, d);
      // The first message sets its expiry (a disappearing one's, or retention); a forward may extend it.
      this.#run(
        `UPDATE blobs SET expires_at = CASE WHEN referenced = 0 THEN ? ELSE MAX(expires_at, ?) END, referenced = 1
         WHERE id = ?`,
        expiresAt,
        expiresAt,
        id,
      );
    }
    return true;
  }

  blobFetched(blobId: string, deviceId: string, now: number): Promise<void> {
    return this.#write(() => {
      const { changes } = this.#run(
        "DELETE FROM blob_pending WHERE blob_id = ? AND device_id = ?",
        blobId,
        deviceId,
      );
      if (changes === 0) return;
      const left = this.#get("SELECT 1 AS x FROM blob_pending WHERE blob_id = ? LIMIT 1", blobId);
      // Every recipient has it: nothing references it any more.
      if (!left) this.#run("UPDATE blobs SET expires_at = ? WHERE id = ? AND referenced = 1", now, blobId);
    });
  }

  expiredBlobs(now: number, limit: number): Promise<string[]> {
    return Promise.resolve(
      this.#all("SELECT id FROM blobs WHERE expires_at <= ? LIMIT ?", now, limit).map((r) => String(r.id)),
    );
  }

  deleteBlobRecords(blobIds: string[]): Promise<void> {
    return this.#write(() => {
      for (const id of blobIds) {
        this.#run("DELETE FROM blob_pending WHERE blob_id = ?", id);
        this.#run("DELETE FROM blobs WHERE id = ?", id);
      }
    });
  }

  createDeviceLink(link: NewDeviceLink): Promise<void> {
    return this.#write(() => {
      this.#run("DELETE FROM device_links WHERE expires_at <= ?", link.createdAt);
      this.#run(
        "INSERT INTO device_links (code_hash, user_id, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        link.codeHash,
        link.userId,
        link.deviceId,
        link.createdAt,
        link.expiresAt,
      );
    });
  }

  claimDeviceLink(
    codeHash: string,
    now: number,
    device: Omit<NewDevice, "userId">,
    session: NewSession,
  ): Promise<string | undefined> {
    return this.#write(() => {
      const link = this.#get(
        `SELECT l.user_id FROM device_links l JOIN devices d ON d.id = l.device_id
         WHERE l.code_hash = ? AND l.expires_at > ? AND d.revoked_at IS NULL`,
        codeHash,
        now,
      );
      // Single use: a code is gone once tried with success.
      this.#run("DELETE FROM device_links WHERE code_hash = ?", codeHash);
      if (!link) return undefined;
      const userId = String(link.user_id);
      this.#insertDevice({ ...device, userId });
      this.#insertSession(session);
      return userId;
    });
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
    return this.#durableRead(() => undefined).catch(() => undefined);
  }
}

/** A group member from a row of group_members joined with devices. */
function toMember(row: Row): GroupRecord["members"][number] {
  return { deviceId: String(row.device_id), userId: String(row.user_id), revoked: row.revoked_at !== null };
}

function toUser(row: Row): UserRecord {
  return {
    userId: String(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    createdAt: Number(row.created_at),
  };
}

function toDevice(row: Row): DeviceRecord {
  return {
    deviceId: String(row.id),
    userId: String(row.user_id),
    name: String(row.name),
    signatureKey: row.signature_key as Uint8Array,
    createdAt: Number(row.created_at),
    lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
    activatedAt: row.activated_at === null ? null : Number(row.activated_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
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
