// The body of the store thread (see threaded-store.ts): owns the SQLite database and runs the calls the
// main thread posts, in arrival order, through the ordinary SqliteStore.
import { parentPort, workerData } from "node:worker_threads";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";
import {
  type PackedCalls,
  packReplies,
  packReply,
  type StoreReply,
  serializeError,
  unpackCalls,
} from "./thread-messages.ts";
import { turnBatcher } from "./turn-batcher.ts";

const port = parentPort!;
let store: SqliteStore;
try {
  store = new SqliteStore(workerData as SqliteStoreOptions);
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: serializeError(error) });
  process.exit(1);
}

const reply = turnBatcher<StoreReply>((batch) => port.postMessage(packReplies(batch)));

port.on("message", (packed: PackedCalls) => {
  for (const call of unpackCalls(packed)) {
    if (call.method === "close") {
      // Through the batcher, so it follows the replies of the last writes instead of overtaking them.
      void store.close().then(() => reply({ id: call.id, ok: true, value: undefined }));
      continue;
    }
    // The method names come from our own main thread (threaded-store.ts), never from a client.
    const fn = store[call.method] as (...args: unknown[]) => Promise<unknown>;
    let result: Promise<unknown>;
    try {
      result = fn.apply(store, call.args);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => reply({ id: call.id, ok: true, value: packReply(call.method, value) }),
      (error: unknown) => reply({ id: call.id, ok: false, error: serializeError(error) }),
    );
  }
});
