/**
 * A token bucket per key: `capacity` tokens, refilled at `perSecond`. Allows short bursts while holding
 * the long-run rate. Memory is bounded by forgetting full buckets.
 */
export class TokenBuckets {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #now: () => number;
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(capacity: number, perSecond: number, now: () => number = Date.now) {
    this.#capacity = capacity;
    this.#perMs = perSecond / 1000;
    this.#now = now;
  }

  /** Takes one token for `key`; returns 0 if allowed, else the whole seconds until one is available. */
  take(key: string): number {
    const now = this.#now();
    if (this.#buckets.size > 10_000) this.#prune(now);
    const b = this.#buckets.get(key) ?? { tokens: this.#capacity, at: now };
    b.tokens = Math.min(this.#capacity, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens < 1) return Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000));
    b.tokens -= 1;
    return 0;
  }

  #prune(now: number): void {
    for (const [k, b] of this.#buckets)
      if (b.tokens + (now - b.at) * this.#perMs >= this.#capacity) this.#buckets.delete(k);
  }
}
