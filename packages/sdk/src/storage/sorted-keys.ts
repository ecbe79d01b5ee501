/**
 * A storage's keys in order, so that listing a prefix costs its matches and a binary search rather
 * than a pass over every key and a sort: the stores list per-chat histories and the next expiry on
 * every message, and a gateway's devices hold thousands of keys each. The order is the default
 * string order (UTF-16 code units), the one `list` has always returned.
 */
export class SortedKeys {
  readonly #keys: string[];

  constructor(keys: Iterable<string> = []) {
    this.#keys = [...new Set(keys)].sort();
  }

  add(key: string): void {
    const i = this.#lowerBound(key);
    if (this.#keys[i] !== key) this.#keys.splice(i, 0, key);
  }

  delete(key: string): void {
    const i = this.#lowerBound(key);
    if (this.#keys[i] === key) this.#keys.splice(i, 1);
  }

  /** The keys that start with `prefix`, in order (a new array). */
  withPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (let i = this.#lowerBound(prefix); i < this.#keys.length; i++) {
      const key = this.#keys[i]!;
      if (!key.startsWith(prefix)) break;
      out.push(key);
    }
    return out;
  }

  /** The first index whose key is not less than `key`. */
  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
