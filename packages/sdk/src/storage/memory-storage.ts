import { SortedKeys } from "./sorted-keys.ts";
import type { ClientStorage } from "./storage.ts";

/** Keeps everything in memory: for tests and ephemeral bots. */
export class MemoryStorage implements ClientStorage {
  readonly #data = new Map<string, Uint8Array>();
  readonly #keys = new SortedKeys();

  get(key: string): Promise<Uint8Array | undefined> {
    const v = this.#data.get(key);
    return Promise.resolve(v?.slice());
  }

  put(key: string, value: Uint8Array): Promise<void> {
    this.#data.set(key, value.slice());
    this.#keys.add(key);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#data.delete(key);
    this.#keys.delete(key);
    return Promise.resolve();
  }

  list(prefix: string): Promise<string[]> {
    return Promise.resolve(this.#keys.withPrefix(prefix));
  }
}
