/**
 * Counts things in progress per remote address (connections that have not authenticated yet) and
 * refuses more than `limit` at once. An entry exists only while its count is above zero, so memory
 * follows what is in progress, not how many addresses were ever seen.
 */
export class AddressSlots {
  readonly #limit: number;
  #counts = new Map<string, number>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Takes a slot for `address`; false (nothing taken) if it already holds `limit`. */
  take(address: string): boolean {
    const n = this.#counts.get(address) ?? 0;
    if (n >= this.#limit) return false;
    this.#counts.set(address, n + 1);
    return true;
  }

  /** Gives back a slot taken for `address`. */
  release(address: string): void {
    const n = this.#counts.get(address) ?? 0;
    if (n <= 1) this.#counts.delete(address);
    else this.#counts.set(address, n - 1);
  }

  /** Slots held, all addresses together. */
  get held(): number {
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }
}
