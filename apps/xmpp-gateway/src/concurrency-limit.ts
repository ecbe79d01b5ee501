/**
 * Runs at most `limit` tasks at once; the rest wait in call order. A waiting task starts only when a
 * running one ends, so whoever checks for shutdown at its start sees it before doing any work.
 */
export class ConcurrencyLimit {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer: ${limit}`);
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((start) => this.#waiting.push(start));
    else this.#running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so the count never dips below what is running.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
