import type { DeliveryKind, PushWakeKind, WireRelay } from "@sori/protocol";
import type { Connection } from "../connection.ts";
import type { ConnectionRegistry } from "../connection-registry.ts";
import type { DeliveryNotifier, RelayWake } from "../delivery-service.ts";
import type { Enqueued } from "../store/store.ts";
import type { HeldRings } from "./held-rings.ts";
import type { Waker } from "./waker.ts";

/**
 * The queue entries that wake an offline device, and as what. Only what a person would want to hear
 * of: a message (the server cannot tell a text from a receipt), a new chat, a sign-in waiting for
 * approval. Commits, device notices and rejoin requests wait until the device connects by itself.
 */
const WAKES: Partial<Record<DeliveryKind, PushWakeKind>> = {
  message: "message",
  welcome: "message",
  "device-pending": "message",
};

/**
 * The Delivery Service's notifier: the connection registry for online devices, plus wake-ups for
 * offline ones (Web Push, when the server has it) and the rings held for them until they connect.
 */
export class WakingNotifier implements DeliveryNotifier {
  readonly #registry: ConnectionRegistry;
  readonly #held: HeldRings;
  readonly #waker: Waker | undefined;

  constructor(registry: ConnectionRegistry, held: HeldRings, waker: Waker | undefined) {
    this.#registry = registry;
    this.#held = held;
    this.#waker = waker;
  }

  enqueued(entries: Enqueued): void {
    this.#registry.enqueued(entries);
    const waker = this.#waker;
    if (!waker) return;
    for (const { deviceId, delivery } of entries) {
      const kind = WAKES[delivery.kind];
      // A notice about the account comes "from" the account itself, and must wake it all the same.
      if (kind)
        waker.wake(deviceId, kind, delivery.kind === "device-pending" ? undefined : delivery.senderUserId);
    }
  }

  relay(deviceIds: string[], frame: WireRelay, wake?: RelayWake): void {
    this.#registry.relay(deviceIds, frame);
    const offline = deviceIds.filter((id) => !this.#registry.isConnected(id));
    if (offline.length === 0) return;
    if (!wake) {
      this.#held.follow(offline, frame);
      return;
    }
    const ringing = offline.filter((id) => wake.deviceIds.includes(id));
    this.#held.hold(ringing, frame);
    for (const id of ringing) this.#waker?.wake(id, wake.kind, frame.from.userId);
  }

  keyPackagesLow(deviceId: string, remaining: number): void {
    this.#registry.keyPackagesLow(deviceId, remaining);
  }

  signedOut(deviceIds: string[], reason: string): void {
    this.#registry.signedOut(deviceIds, reason);
  }

  /** A device authenticated (its auth answer is out): it gets its held ring, and may be woken again. */
  ready(conn: Connection): void {
    const deviceId = conn.caller!.deviceId;
    this.#waker?.connected(deviceId);
    for (const frame of this.#held.take(deviceId)) conn.notify(frame);
  }
}
