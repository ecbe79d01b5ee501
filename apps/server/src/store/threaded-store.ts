import { Worker } from "node:worker_threads";
import type { SqliteStoreOptions } from "./sqlite-store.ts";
import type { Store } from "./store.ts";
import { turnBatcher } from "./turn-batcher.ts";
import { StoreError } from "./store-error.ts";
import {
  deserializeError,
  packCalls,
  type SerializedError,
  type StoreCall,
  type PackedReplies,
  unpackReplies,
  unpackReply,
} from "./thread-messages.ts";

/** Every Store method, forwarded as is (`close` also stops the thread). */
const METHODS = [
  "createUserWithDevice",
  "findUserByUsername",
  "addDevice",
  "initAccountKey",
  "resetAccountKey",
  "approveDevice",
  "setPassword",
  "expirePendingDevices",
  "findSession",
  "extendSession",
  "deleteSession",
  "revokeDevice",
  "listDevices",
  "touchDevice",
  "addKeyPackages",
  "keyPackageStatus",
  "claimKeyPackages",
  "usersByUsername",
  "usersById",
  "devicesById",
  "createGroup",
  "getGroup",
  "groupsOfDevice",
  "applyCommit",
  "acceptMessage",
  "notifyGroup",
  "notifyAccount",
  "pending",
  "ack",
  "pruneSeen",
  "stats",
  "purgeExpiredMessages",
  "purgeUndelivered",
  "createBlob",
  "getBlob",
  "setBlobReceived",
  "unsentBlobs",
  "blobFetched",
  "expiredBlobs",
  "deleteBlobRecords",
  "createDeviceLink",
  "claimDeviceLink",
  "setPushSubscription",
  "pushSubscriptions",
  "deletePushSubscription",
] as const satisfies readonly Exclude<keyof Store, "close">[];
// Fails to compile when Store gains a method this list does not forward.
const COVERS_STORE: Exclude<keyof Store, "close" | (typeof METHODS)[number]> extends never ? true : never =
  true;
void COVERS_STORE;

type Waiter = {
  method: StoreCall["method"];
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

/** Extra observability of the store thread, beside the Store interface. */
export type StoreThreadStats = { callsInFlight: number; alive: boolean };

/**
 * The SQLite store on its own thread. SQLite's calls are synchronous, and a batch of hundreds of
 * writes takes milliseconds: on the main thread that stops every socket. Here the main thread keeps
 * parsing, routing and writing frames while the store thread commits, and the next batch (grown
 * meanwhile) goes into the next transaction. There is still exactly one writer, so every guarantee of
 * SqliteStore holds as is: calls run in the order they were made, and a promise resolves only after
 * its write is durable (for `full`, after the WAL fsync the store thread runs on libuv's pool).
 */
export async function openThreadedStore(
  options: SqliteStoreOptions,
): Promise<Store & { threadStats(): StoreThreadStats }> {
  const worker = new Worker(new URL("./store-worker.ts", import.meta.url), { workerData: options });
  const waiters = new Map<number, Waiter>();
  let nextId = 1;
  const post = turnBatcher<StoreCall>((batch) => {
    if (dead) return;
    const packed = packCalls(batch);
    worker.postMessage(packed, [packed.bytes]);
  });
  let dead: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    const onFirst = (m: { ready: boolean; error?: SerializedError }): void => {
      worker.off("error", onError);
      if (m.ready) resolve();
      else reject(deserializeError(m.error!));
    };
    const onError = (error: Error): void => {
      worker.off("message", onFirst);
      reject(error);
    };
    worker.once("message", onFirst);
    worker.once("error", onError);
  });

  const fail = (error: Error): void => {
    dead = new StoreError("unavailable", "the store thread stopped", { cause: error });
    for (const w of waiters.values()) w.reject(dead);
    waiters.clear();
  };
  worker.on("message", (packed: PackedReplies) => {
    for (const r of unpackReplies(packed)) {
      const w = waiters.get(r.id);
      if (!w) continue;
      waiters.delete(r.id);
      if (r.ok) w.resolve(unpackReply(w.method, w.args, r.value));
      else w.reject(deserializeError(r.error));
    }
  });
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`store thread exited with code ${code}`)));

  const call = (method: StoreCall["method"], args: unknown[]): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    post({ id, method, args });
    return new Promise((resolve, reject) => waiters.set(id, { method, args, resolve, reject }));
  };

  const store: Record<string, unknown> = {};
  for (const method of METHODS) store[method] = (...args: unknown[]) => call(method, args);
  let closing: Promise<void> | undefined;
  store.close = (): Promise<void> => {
    closing ??= (async () => {
      if (!dead) await call("close", []).catch(() => undefined);
      fail(new Error("store closed"));
      dead = new StoreError("closed", "store is closed");
      await worker.terminate();
    })();
    return closing;
  };
  store.threadStats = (): StoreThreadStats => ({ callsInFlight: waiters.size, alive: dead === undefined });
  return store as Store & { threadStats(): StoreThreadStats };
}
