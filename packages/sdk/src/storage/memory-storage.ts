import type { ClientStorage } from "./storage.ts";

/** Keeps everything in memory: for tests and ephemeral bots. */
export class MemoryStorage implements ClientStorage {
  readonly #data = new Map<string, Uint8Array>();

  get(key: string): Promise<Uint8Array | undefined> {
    const v = this.#data.get(key);
    return Promise.resolve(v?.slice());
  }

  put(key: string, value: Uint8Array): Promise<void> {
    this.#data.set(key, value.slice());
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#data.delete(key);
    return Promise.resolve();
  }

  list(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.#data.keys()].filter((k) => k.startsWith(prefix)).sort());
  }
}
