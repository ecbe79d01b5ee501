/**
 * Answers of a pure, costly check, remembered for the same input (a bounded number, oldest forgotten
 * first). Ed25519 in JavaScript costs about a millisecond a verification, and a device checks the same
 * certificate for every KeyPackage it makes or keeps.
 */
export class BoundedMemo<T> {
  readonly #max: number;
  readonly #entries = new Map<string, T>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string, compute: () => T): T {
    if (this.#entries.has(key)) return this.#entries.get(key)!;
    const value = compute();
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }

  /** Forgets `key` (a value that turned out not to be worth keeping, such as a failed promise). */
  forget(key: string): void {
    this.#entries.delete(key);
  }
}

/** Bytes as lower-case hex, for memo keys. */
export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
