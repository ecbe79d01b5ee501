/** A stream connection as the registry sees it: something it can close. */
export type RegisteredConnection = { close(): void };

/** Where a connection goes: the peer's address and port on one stream transport. */
export type ConnectionKey = { transport: "TCP" | "TLS"; address: string; port: number };

export type ConnectionLimits = {
  /** Open connections in all (a TCP flood must not exhaust file descriptors). */
  maxTotal: number;
  /** Open connections from (or to) one address: an office behind NAT has a few dozen phones. */
  maxPerAddress: number;
  /** A connection with no whole message (or ping) for this long is closed, unless kept longer. */
  idleMs: number;
};

type Entry<C> = { key: ConnectionKey; conn: C; lastActive: number; keepUntil: number };

/** Why a new connection was not admitted. */
export type AdmitRefusal = "total" | "per-address";

/**
 * The open TCP and TLS connections by peer (RFC 3261 §18.2.2: responses go back on the connection
 * the request came on; §18.1.1: requests reuse an open one to the same address and port), with
 * caps and idle closing. Pure: time is passed in, the transport calls `sweep` on a timer.
 */
export class ConnectionRegistry<C extends RegisteredConnection> {
  readonly #limits: ConnectionLimits;
  readonly #byKey = new Map<string, Entry<C>>();
  readonly #perAddress = new Map<string, number>();

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Takes a connection in, or says which cap it would break (the caller closes it then). */
  admit(key: ConnectionKey, conn: C, now: number): AdmitRefusal | undefined {
    const k = keyText(key);
    const replaced = this.#byKey.get(k);
    if (!replaced) {
      if (this.#byKey.size >= this.#limits.maxTotal) return "total";
      if ((this.#perAddress.get(key.address) ?? 0) >= this.#limits.maxPerAddress) return "per-address";
      this.#perAddress.set(key.address, (this.#perAddress.get(key.address) ?? 0) + 1);
    } else if (replaced.conn !== conn) {
      // The same peer address and port again (the old one half-closed): the new one wins.
      replaced.conn.close();
    }
    this.#byKey.set(k, { key: { ...key }, conn, lastActive: now, keepUntil: 0 });
    return undefined;
  }

  get(key: ConnectionKey): C | undefined {
    return this.#byKey.get(keyText(key))?.conn;
  }

  /** A whole message or a ping came or went: the connection is in use. */
  touch(key: ConnectionKey, now: number): void {
    const e = this.#byKey.get(keyText(key));
    if (e) e.lastActive = now;
  }

  /**
   * Keeps a connection open until `at` even if idle: a phone registered over it is reached only
   * through it (behind NAT nothing can connect to the phone), so it lives as long as the binding.
   */
  keepUntil(key: ConnectionKey, at: number): void {
    const e = this.#byKey.get(keyText(key));
    if (e) e.keepUntil = Math.max(e.keepUntil, at);
  }

  /** The connection closed (or failed): forget it, if it is still the one registered. */
  remove(key: ConnectionKey, conn: C): void {
    const k = keyText(key);
    if (this.#byKey.get(k)?.conn !== conn) return;
    this.#byKey.delete(k);
    const n = (this.#perAddress.get(key.address) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(key.address);
    else this.#perAddress.set(key.address, n);
  }

  /** Closes the connections idle past the limit; returns how many. */
  sweep(now: number): number {
    let closed = 0;
    for (const e of [...this.#byKey.values()]) {
      if (now - e.lastActive < this.#limits.idleMs || now < e.keepUntil) continue;
      this.remove(e.key, e.conn);
      e.conn.close();
      closed++;
    }
    return closed;
  }

  closeAll(): void {
    for (const e of this.#byKey.values()) e.conn.close();
    this.#byKey.clear();
    this.#perAddress.clear();
  }
}

function keyText(key: ConnectionKey): string {
  return `${key.transport}|${key.port}|${key.address}`;
}
