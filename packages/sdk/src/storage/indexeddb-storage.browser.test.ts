// fake-indexeddb stands in for the browser's IndexedDB; Node's WebCrypto (globalThis.crypto) is the real
// thing. fake-indexeddb structured-clones CryptoKey like browsers do, so no test-only key path is needed;
// the real browser path is exercised again in Chromium by the web-app tests.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { SdkError } from "../errors.ts";
import { IndexedDbStorage } from "./indexeddb-storage.browser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

let counter = 0;
const names: string[] = [];
const freshName = (): string => {
  const name = `sori-test-${process.pid}-${counter++}`;
  names.push(name);
  return name;
};

// Raw access to the database behind the storage, as someone reading the browser profile would have.
function rawOpen(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = (): void => resolve(r.result);
    r.onerror = (): void => reject(r.error ?? new Error("open failed"));
  });
}

async function rawRequest<T>(
  name: string,
  store: string,
  mode: IDBTransactionMode,
  make: (s: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await rawOpen(name);
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const req = make(tx.objectStore(store));
      tx.oncomplete = (): void => resolve(req.result);
      tx.onerror = (): void => reject(tx.error ?? new Error("tx failed"));
    });
  } finally {
    db.close();
  }
}

const rawValue = (name: string, key: string): Promise<unknown> =>
  rawRequest(name, "values", "readonly", (s) => s.get(key));
const rawPut = (name: string, key: string, value: unknown): Promise<IDBValidKey> =>
  rawRequest(name, "values", "readwrite", (s) => s.put(value, key));

const isStorageError = (e: unknown): boolean => e instanceof SdkError && e.code === "storage";

describe("IndexedDbStorage", () => {
  after(async () => {
    for (const name of names) await IndexedDbStorage.delete(name);
  });

  it("stores, overwrites and deletes values", async () => {
    const s = await IndexedDbStorage.open(freshName());
    assert.equal(await s.get("missing"), undefined);
    await s.put("a", enc.encode("one"));
    assert.equal(dec.decode(await s.get("a")), "one");
    await s.put("a", enc.encode("two"));
    assert.equal(dec.decode(await s.get("a")), "two");
    await s.put("empty", new Uint8Array(0));
    assert.deepEqual(await s.get("empty"), new Uint8Array(0));
    await s.delete("a");
    assert.equal(await s.get("a"), undefined);
    await s.delete("never-there");
    s.close();
  });

  it("keeps a copy: changing the caller's array after put does not change the stored value", async () => {
    const s = await IndexedDbStorage.open(freshName());
    const bytes = enc.encode("original");
    const done = s.put("k", bytes);
    bytes.fill(0);
    await done;
    assert.equal(dec.decode(await s.get("k")), "original");
    s.close();
  });

  it("applies operations in call order", async () => {
    const s = await IndexedDbStorage.open(freshName());
    const writes = [];
    for (let i = 0; i < 50; i++) writes.push(s.put("counter", enc.encode(String(i))));
    const read = s.get("counter");
    writes.push(s.delete("gone"), s.put("gone", enc.encode("x")), s.delete("gone"));
    await Promise.all(writes);
    assert.equal(dec.decode(await read), "49");
    assert.equal(await s.get("gone"), undefined);
    s.close();
  });

  it("lists keys with a prefix, sorted", async () => {
    const s = await IndexedDbStorage.open(freshName());
    for (const k of ["history/b/2", "group/x", "history/a/10", "history/a/2", "history/", "historz", "h"])
      await s.put(k, enc.encode(k));
    assert.deepEqual(await s.list("history/"), ["history/", "history/a/10", "history/a/2", "history/b/2"]);
    assert.deepEqual(await s.list("history/a/"), ["history/a/10", "history/a/2"]);
    assert.deepEqual(await s.list("nothing/"), []);
    assert.deepEqual(await s.list(""), [
      "group/x",
      "h",
      "history/",
      "history/a/10",
      "history/a/2",
      "history/b/2",
      "historz",
    ]);
    await s.put("x\uffff", enc.encode("edge"));
    await s.put("x\uffff\uffff", enc.encode("edge"));
    assert.deepEqual(await s.list("x\uffff"), ["x\uffff", "x\uffff\uffff"]);
    s.close();
  });

  it("keeps values and the key across close and reopen", async () => {
    const name = freshName();
    const s1 = await IndexedDbStorage.open(name);
    await s1.put("device/identity", enc.encode("secret-state"));
    s1.close();
    await assert.rejects(
      s1.get("device/identity"),
      (e: unknown) => e instanceof SdkError && e.code === "closed",
    );
    const s2 = await IndexedDbStorage.open(name);
    assert.equal(dec.decode(await s2.get("device/identity")), "secret-state");
    assert.deepEqual(await s2.list("device/"), ["device/identity"]);
    s2.close();
  });

  it("never stores values in plaintext", async () => {
    const name = freshName();
    const s = await IndexedDbStorage.open(name);
    const marker = "DISTINCTIVE-안녕-PLAINTEXT-0123456789";
    await s.put("history/chat/1", enc.encode(JSON.stringify({ text: marker })));
    const raw = await rawValue(name, "history/chat/1");
    assert.ok(raw instanceof Uint8Array, "stored as bytes");
    const rawText = Buffer.from(raw).toString("latin1");
    assert.ok(!rawText.includes("DISTINCTIVE"), "plaintext found in the object store");
    assert.ok(!Buffer.from(raw).includes(Buffer.from(marker)), "plaintext found in the object store");
    // iv (12) + ciphertext (same length as the value) + tag (16)
    assert.equal(raw.length, 12 + enc.encode(JSON.stringify({ text: marker })).length + 16);
    // A fresh IV per put: the same value twice gives different records.
    await s.put("history/chat/1", enc.encode(JSON.stringify({ text: marker })));
    const raw2 = await rawValue(name, "history/chat/1");
    assert.notDeepEqual(raw2, raw);
    s.close();
  });

  it("keeps its key non-extractable", async () => {
    const name = freshName();
    const s = await IndexedDbStorage.open(name);
    await s.put("k", enc.encode("v"));
    const keys = await rawRequest(name, "meta", "readonly", (st) => st.getAll());
    assert.equal(keys.length, 1);
    const key = keys[0] as CryptoKey;
    assert.ok(key instanceof CryptoKey);
    assert.equal(key.extractable, false);
    assert.deepEqual(key.algorithm, { name: "AES-GCM", length: 256 });
    await assert.rejects(crypto.subtle.exportKey("raw", key));
    await assert.rejects(crypto.subtle.exportKey("jwk", key));
    s.close();
  });

  it("reports tampered, swapped or malformed values as SdkError storage", async () => {
    const name = freshName();
    const s = await IndexedDbStorage.open(name);
    await s.put("a", enc.encode("value of a"));
    await s.put("b", enc.encode("value of b"));

    const original = (await rawValue(name, "a")) as Uint8Array;
    const flipped = original.slice();
    flipped[20]! ^= 1;
    await rawPut(name, "a", flipped);
    await assert.rejects(s.get("a"), isStorageError);

    // A valid record moved under another key fails too: the key is authenticated.
    await rawPut(name, "a", await rawValue(name, "b"));
    await assert.rejects(s.get("a"), isStorageError);

    await rawPut(name, "a", new Uint8Array(5));
    await assert.rejects(s.get("a"), isStorageError);
    await rawPut(name, "a", "not bytes");
    await assert.rejects(s.get("a"), isStorageError);

    // The others stay readable, and overwriting repairs the broken one.
    assert.equal(dec.decode(await s.get("b")), "value of b");
    await s.put("a", enc.encode("fresh"));
    assert.equal(dec.decode(await s.get("a")), "fresh");
    s.close();
  });

  it("values written under another database's key do not decrypt", async () => {
    const one = freshName();
    const two = freshName();
    const s1 = await IndexedDbStorage.open(one);
    const s2 = await IndexedDbStorage.open(two);
    await s1.put("k", enc.encode("from one"));
    await rawPut(two, "k", await rawValue(one, "k"));
    await assert.rejects(s2.get("k"), isStorageError);
    s1.close();
    s2.close();
  });

  it("shares one key between connections opened at once", async () => {
    const name = freshName();
    const [a, b] = await Promise.all([IndexedDbStorage.open(name), IndexedDbStorage.open(name)]);
    await a.put("k", enc.encode("shared"));
    assert.equal(dec.decode(await b.get("k")), "shared");
    a.close();
    b.close();
  });

  it("deletes a database, even while a connection is open, and starts fresh afterwards", async () => {
    const name = freshName();
    const s = await IndexedDbStorage.open(name);
    await s.put("k", enc.encode("v"));
    // The open connection closes itself on versionchange instead of blocking the deletion.
    await IndexedDbStorage.delete(name);
    await assert.rejects(s.get("k"), (e: unknown) => e instanceof SdkError && e.code === "closed");
    const again = await IndexedDbStorage.open(name);
    assert.equal(await again.get("k"), undefined);
    assert.deepEqual(await again.list(""), []);
    again.close();
  });
});
