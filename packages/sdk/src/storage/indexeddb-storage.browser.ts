import { SdkError } from "../errors.ts";
import type { ClientStorage } from "./storage.ts";

const VALUES = "values";
const META = "meta";
const KEY_ID = "aes-gcm-key";
const IV_BYTES = 12;
/** How long `IndexedDbStorage.delete` waits for other tabs to close the database before giving up. */
const DELETE_BLOCKED_TIMEOUT_MS = 10_000;

const encoder = new TextEncoder();

/**
 * ClientStorage in IndexedDB for browsers. Every value is encrypted with AES-256-GCM under a
 * non-extractable WebCrypto key kept in the same database: script running in the page can use the key
 * but never read it out, and a copy of the profile's files on disk (backups, a stolen laptop image) holds
 * only ciphertext plus a key the browser guards. The storage key is bound as additional authenticated
 * data, so a value cannot be moved to another key unnoticed.
 *
 * Storage keys themselves stay plaintext so `list(prefix)` can use the IndexedDB index: they are made of
 * ids only ("group/<id>", "history/<chat>/<n>", …), never message content, names or key material.
 *
 * Operations are applied in call order (a `get` sees every `put` and `delete` issued before it), and each
 * `put` is one IndexedDB transaction, so it is atomic.
 */
export class IndexedDbStorage implements ClientStorage {
  readonly #db: IDBDatabase;
  readonly #key: CryptoKey;
  /** Settles after the last write issued so far; reads wait for it, writes chain onto it. */
  #tail: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(db: IDBDatabase, key: CryptoKey) {
    this.#db = db;
    this.#key = key;
    // Another tab deleting the database (logout) or upgrading it must not be blocked by this one.
    db.onversionchange = (): void => {
      this.close();
    };
  }

  /** Opens (or creates) the database `name` and its encryption key. */
  static async open(name: string): Promise<IndexedDbStorage> {
    const db = await openDatabase(name);
    try {
      return new IndexedDbStorage(db, await loadOrCreateKey(db));
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Deletes the database `name` and everything in it (the key included), as on logout. */
  static async delete(name: string): Promise<void> {
    const idb = indexedDbFactory();
    await new Promise<void>((resolve, reject) => {
      const request = idb.deleteDatabase(name);
      let timer: ReturnType<typeof setTimeout> | undefined;
      request.onsuccess = (): void => {
        clearTimeout(timer);
        resolve();
      };
      request.onerror = (): void => {
        clearTimeout(timer);
        reject(storageError(`cannot delete local database "${name}"`, request.error));
      };
      // Open connections of this class close themselves on versionchange; one that does not (an old
      // tab) blocks the deletion, which then completes once it closes. Don't make the caller wait forever.
      request.onblocked = (): void => {
        timer ??= setTimeout(
          () =>
            reject(
              new SdkError(
                "storage",
                `local database "${name}" is still open in another tab; it will be deleted when that tab closes`,
              ),
            ),
          DELETE_BLOCKED_TIMEOUT_MS,
        );
      };
    });
  }

  /** Closes the connection; later operations fail with SdkError "closed". */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.#tail;
    const stored = await this.#request(VALUES, "readonly", (s) => s.get(key));
    if (stored === undefined) return undefined;
    return this.#decrypt(key, stored);
  }

  put(key: string, value: Uint8Array): Promise<void> {
    // Encrypt now (WebCrypto copies the input at call time), write in call order.
    const sealed = this.#encrypt(key, value);
    return this.#write(async () => {
      const record = await sealed;
      await this.#request(VALUES, "readwrite", (s) => s.put(record, key));
    });
  }

  delete(key: string): Promise<void> {
    return this.#write(() => this.#request(VALUES, "readwrite", (s) => s.delete(key)).then(() => undefined));
  }

  async list(prefix: string): Promise<string[]> {
    await this.#tail;
    const keys = await this.#request(VALUES, "readonly", (s) => s.getAllKeys(prefixRange(prefix)));
    return keys
      .filter((k): k is string => typeof k === "string" && k.startsWith(prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  #write(operation: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(operation);
    // A failed write is reported to its caller; it must not fail every later operation.
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #encrypt(key: string, value: Uint8Array): Promise<Uint8Array> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    let ciphertext: ArrayBuffer;
    try {
      ciphertext = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(key) },
        this.#key,
        new Uint8Array(value),
      );
    } catch (error) {
      throw storageError("cannot encrypt a value for local storage", error);
    }
    const record = new Uint8Array(IV_BYTES + ciphertext.byteLength);
    record.set(iv, 0);
    record.set(new Uint8Array(ciphertext), IV_BYTES);
    return record;
  }

  async #decrypt(key: string, stored: unknown): Promise<Uint8Array> {
    const record = toBytes(stored);
    // 16 bytes: the GCM tag, present even for an empty value.
    if (!record || record.length < IV_BYTES + 16)
      throw new SdkError("storage", `local value "${key}" is damaged (malformed record)`);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: record.slice(0, IV_BYTES), additionalData: encoder.encode(key) },
        this.#key,
        record.slice(IV_BYTES),
      );
      return new Uint8Array(plain);
    } catch (error) {
      throw new SdkError(
        "storage",
        `local value "${key}" cannot be decrypted: it was damaged or written under another key`,
        {},
        { cause: error },
      );
    }
  }

  #request<T>(
    store: string,
    mode: IDBTransactionMode,
    make: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new SdkError("closed", "local storage is closed"));
    let tx: IDBTransaction;
    try {
      // "strict": a write is reported done only once it is on disk, as MLS state must never roll back
      // (a reused ratchet generation breaks forward secrecy).
      tx = this.#db.transaction(store, mode, { durability: mode === "readwrite" ? "strict" : "default" });
    } catch (error) {
      return Promise.reject(
        this.#closed
          ? new SdkError("closed", "local storage is closed")
          : storageError("cannot access local storage", error),
      );
    }
    let request: IDBRequest<T>;
    try {
      request = make(tx.objectStore(store));
    } catch (error) {
      tx.abort();
      return Promise.reject(storageError("local storage refused the operation", error));
    }
    return transactionResult(tx, request);
  }
}

function indexedDbFactory(): IDBFactory {
  if (typeof indexedDB === "undefined")
    throw new SdkError("storage", "IndexedDB is not available in this environment");
  return indexedDB;
}

function storageError(message: string, cause: unknown): SdkError {
  const why = cause instanceof Error || cause instanceof DOMException ? `: ${cause.name}` : "";
  return new SdkError("storage", `${message}${why}`, {}, { cause });
}

function openDatabase(name: string): Promise<IDBDatabase> {
  const idb = indexedDbFactory();
  return new Promise<IDBDatabase>((resolve, reject) => {
    const request = idb.open(name, 1);
    request.onupgradeneeded = (): void => {
      const db = request.result;
      if (!db.objectStoreNames.contains(VALUES)) db.createObjectStore(VALUES);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    request.onsuccess = (): void => resolve(request.result);
    request.onerror = (): void => reject(storageError(`cannot open local database "${name}"`, request.error));
    request.onblocked = (): void =>
      reject(new SdkError("storage", `local database "${name}" is being upgraded or deleted in another tab`));
  });
}

/** Resolves with the request's result once its transaction has committed. */
function transactionResult<T>(tx: IDBTransaction, request: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    tx.oncomplete = (): void => resolve(request.result);
    tx.onerror = (): void => reject(storageError("local storage operation failed", tx.error));
    tx.onabort = (): void => reject(storageError("local storage operation was aborted", tx.error));
  });
}

/**
 * The database's key, created on first open. Generating happens outside the transaction (an IndexedDB
 * transaction commits as soon as it waits on anything else); the get-or-put then runs in one readwrite
 * transaction, so two tabs opening at once end up with the same key.
 */
async function loadOrCreateKey(db: IDBDatabase): Promise<CryptoKey> {
  const readTx = db.transaction(META, "readonly");
  const existing = await transactionResult(readTx, readTx.objectStore(META).get(KEY_ID));
  if (isCryptoKey(existing)) return existing;
  const fresh = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const tx = db.transaction(META, "readwrite", { durability: "strict" });
  const store = tx.objectStore(META);
  let chosen: CryptoKey = fresh;
  const read = store.get(KEY_ID);
  read.onsuccess = (): void => {
    if (isCryptoKey(read.result)) chosen = read.result;
    else store.put(fresh, KEY_ID);
  };
  await transactionResult(tx, read);
  return chosen;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== "undefined" && value instanceof CryptoKey;
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return undefined;
}

/** The smallest key range holding every string that starts with `prefix` (all keys for ""). */
function prefixRange(prefix: string): IDBKeyRange | undefined {
  if (prefix === "") return undefined;
  // The first string after every `prefix…`: drop trailing U+FFFF units and increment the last one.
  let end = prefix;
  while (end.length > 0 && end.charCodeAt(end.length - 1) === 0xffff) end = end.slice(0, -1);
  if (end === "") return IDBKeyRange.lowerBound(prefix);
  end = end.slice(0, -1) + String.fromCharCode(end.charCodeAt(end.length - 1) + 1);
  return IDBKeyRange.bound(prefix, end, false, true);
}
