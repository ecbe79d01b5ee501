import { ProtocolError } from "@sori/protocol";

/** A fixed-window counter per key. Memory is bounded by pruning windows that have ended. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts `cost` events for `key`; returns 0 if allowed, else the seconds until the window resets. */
  take(key: string, cost = 1): number {
    const now = this.#now();
    if (this.#windows.size > 10_000) this.#prune(now);
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.#windowMs) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    if (w.count + cost > this.#limit) return Math.max(1, Math.ceil((w.start + this.#windowMs - now) / 1000));
    w.count += cost;
    return 0;
  }

  #prune(now: number): void {
    for (const [k, w] of this.#windows) if (now - w.start >= this.#windowMs) this.#windows.delete(k);
  }
}

/**
 * Throws the protocol's rate-limited error when `wait` (seconds, as `take` returns it) is above zero;
 * `tooMany` names what there were too many of ("login attempts").
 */
export function refuseIfLimited(wait: number, tooMany: string): void {
  if (wait > 0) {
    throw new ProtocolError("rate-limited", `too many ${tooMany}; retry in ${wait} s`, { retryAfterS: wait });
  }
}
