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
 * A per-minute limit per account and, at ten times that, per address: many accounts from one place
 * cannot together do what one may not. The address is charged only for what the account may do, so
 * one account hammering its own limit does not use up its neighbours' share.
 */
export class AccountAndAddressLimit {
  readonly #perAccount: RateLimiter;
  readonly #perAddress: RateLimiter;

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perAccount = new RateLimiter(perMinute, 60_000, now);
    this.#perAddress = new RateLimiter(perMinute * 10, 60_000, now);
  }

  /** Counts `cost` events of `caller`; returns 0 if allowed, else the seconds to wait (as `take`). */
  take(caller: { userId: string; address?: string | undefined }, cost: number): number {
    const wait = this.#perAccount.take(caller.userId, cost);
    if (wait > 0 || caller.address === undefined) return wait;
    return this.#perAddress.take(caller.address, cost);
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
