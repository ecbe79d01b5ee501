import { ProtocolError, type WireRelay } from "@sori/protocol";
import type { Connection } from "./connection.ts";
import type { DeliveryNotifier } from "./delivery-service.ts";
import type { Enqueued } from "./store/store.ts";

/**
 * The authenticated connections, by device (one each) and by account (a bounded number). It is how
 * the Delivery Service reaches online devices: new queue entries, KeyPackage notices, relays.
 */
export class ConnectionRegistry implements DeliveryNotifier {
  readonly #byDevice = new Map<string, Connection>();
  readonly #byUser = new Map<string, Set<Connection>>();
  readonly #perAccount: number;
  readonly #onReady: ((conn: Connection) => void) | undefined;

  /** `onReady`: a connection authenticated and its auth answer is out (WakingNotifier.ready). */
  constructor(connectionsPerAccount: number, onReady?: (conn: Connection) => void) {
    this.#perAccount = connectionsPerAccount;
    this.#onReady = onReady;
  }

  /** Whether the device has an authenticated connection now. */
  isConnected(deviceId: string): boolean {
    return this.#byDevice.has(deviceId);
  }

  /** The connection's auth answer was sent: what waited for the device may follow. */
  ready(conn: Connection): void {
    if (this.#byDevice.get(conn.caller!.deviceId) === conn) this.#onReady?.(conn);
  }

  /** Registers a connection that just authenticated; returns an error if the account has too many. */
  attach(conn: Connection): ProtocolError | undefined {
    const caller = conn.caller!;
    const mine = this.#byUser.get(caller.userId) ?? new Set<Connection>();
    const previous = this.#byDevice.get(caller.deviceId);
    const replaces = previous !== undefined && previous !== conn && mine.has(previous);
    // Checked before anything is closed: a refused connection must not cost the device its old one.
    if (mine.size - (replaces ? 1 : 0) >= this.#perAccount) {
      return new ProtocolError("too-many-connections", `at most ${this.#perAccount} connections per account`);
    }
    // One connection per device: a reconnect replaces a half-dead old socket.
    if (previous && previous !== conn) previous.close(4000, "replaced by a newer connection of this device");
    mine.add(conn);
    this.#byUser.set(caller.userId, mine);
    this.#byDevice.set(caller.deviceId, conn);
    return undefined;
  }

  /** Forgets a connection that closed (a newer one of its device stays). */
  detach(conn: Connection): void {
    const caller = conn.caller!;
    if (this.#byDevice.get(caller.deviceId) === conn) this.#byDevice.delete(caller.deviceId);
    const mine = this.#byUser.get(caller.userId);
    mine?.delete(conn);
    if (mine && mine.size === 0) this.#byUser.delete(caller.userId);
  }

  /** Closes the device's connection, if any: it was logged out or revoked. */
  drop(deviceId: string, reason: string): void {
    this.#byDevice.get(deviceId)?.close(4003, reason);
  }

  enqueued(entries: Enqueued): void {
    for (const { deviceId, delivery } of entries) this.#byDevice.get(deviceId)?.offer(delivery);
  }

  keyPackagesLow(deviceId: string, remaining: number): void {
    this.#byDevice.get(deviceId)?.notify({ type: "kp.low", remaining });
  }

  relay(deviceIds: string[], frame: WireRelay): void {
    for (const id of deviceIds) this.#byDevice.get(id)?.notify(frame);
  }

  signedOut(deviceIds: string[], reason: string): void {
    for (const id of deviceIds) this.drop(id, reason);
  }

  /** Devices connected now. */
  get devices(): number {
    return this.#byDevice.size;
  }

  /** Deliveries pushed and not yet acknowledged, over all connections. */
  unacked(): number {
    let n = 0;
    for (const c of this.#byDevice.values()) n += c.unacked;
    return n;
  }
}
