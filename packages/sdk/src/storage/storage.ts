/**
 * Where a device keeps its keys, MLS state and history. Keys are "/"-separated paths; values are bytes.
 * The Node implementation is a directory of files (file-storage.node.ts); the browser one will be
 * IndexedDB. Implementations must make each `put` atomic (all or nothing).
 */
export type ClientStorage = {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a JSON value stored with putJson. */
export async function getJson<T>(storage: ClientStorage, key: string): Promise<T | undefined> {
  const bytes = await storage.get(key);
  return bytes === undefined ? undefined : (JSON.parse(decoder.decode(bytes)) as T);
}

export function putJson(storage: ClientStorage, key: string, value: unknown): Promise<void> {
  return storage.put(key, encoder.encode(JSON.stringify(value)));
}
