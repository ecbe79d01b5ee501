import { type ClientFrame, ProtocolError, type WireResultOf } from "@sori/protocol";
import type { Logger } from "../logger.ts";
import { RateLimiter, refuseIfLimited } from "../rate-limiter.ts";
import type { Caller } from "../sessions.ts";
import type { Store } from "../store/store.ts";
import { checkEndpoint, endpointHost, type PushHostPolicy } from "./push-hosts.ts";
import type { Vapid } from "./vapid.ts";
import type { Waker } from "./waker.ts";
import { isP256PublicKey } from "./web-push-encryption.ts";

/** Subscription changes per device per minute: a browser makes one when the page registers. */
const SUBSCRIBES_PER_MINUTE = 20;

type SubscribeFrame = Extract<ClientFrame, { type: "push.subscribe" }>;

/**
 * The `push.*` requests of an authenticated device: its Web Push subscription, checked at the edge
 * against the operator's allowed hosts and the curve before anything is stored.
 */
export class PushRequests {
  readonly #store: Pick<Store, "setPushSubscription" | "pushSubscriptions" | "deletePushSubscription">;
  readonly #policy: PushHostPolicy;
  readonly #vapid: Vapid | undefined;
  readonly #waker: Waker | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #changes: RateLimiter;

  constructor(options: {
    store: Pick<Store, "setPushSubscription" | "pushSubscriptions" | "deletePushSubscription">;
    policy: PushHostPolicy;
    /** Undefined when push is switched off (`--push-hosts off`). */
    vapid: Vapid | undefined;
    waker: Waker | undefined;
    log: Logger;
    now?: () => number;
  }) {
    this.#store = options.store;
    this.#policy = options.policy;
    this.#vapid = options.vapid;
    this.#waker = options.waker;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#changes = new RateLimiter(SUBSCRIBES_PER_MINUTE, 60_000, this.#now);
  }

  async subscribe(caller: Caller, frame: SubscribeFrame): Promise<WireResultOf<"push.subscribe">> {
    const url = checkEndpoint(frame.endpoint, this.#vapid ? this.#policy : { ...this.#policy, hosts: "off" });
    if (!isP256PublicKey(frame.keys.p256dh))
      throw new ProtocolError("bad-request", "keys.p256dh is not a point on P-256");
    refuseIfLimited(this.#changes.take(caller.deviceId), "push subscription changes");
    const saved = await this.#store.setPushSubscription({
      deviceId: caller.deviceId,
      endpoint: frame.endpoint,
      p256dh: frame.keys.p256dh,
      auth: frame.keys.auth,
      createdAt: this.#now(),
    });
    if (saved === "no-device") throw new ProtocolError("auth-failed", "this device was signed out");
    this.#waker?.subscriptionChanged(caller.deviceId, caller.userId);
    this.#log.info("push.subscribed", { device: caller.deviceId, host: endpointHost(url) });
    return {};
  }

  async unsubscribe(caller: Caller): Promise<WireResultOf<"push.unsubscribe">> {
    refuseIfLimited(this.#changes.take(caller.deviceId), "push subscription changes");
    const removed = await this.#store.deletePushSubscription(caller.deviceId);
    this.#waker?.subscriptionChanged(caller.deviceId, null);
    if (removed) this.#log.info("push.unsubscribed", { device: caller.deviceId });
    return { removed };
  }

  async status(caller: Caller): Promise<WireResultOf<"push.status">> {
    const [sub] = await this.#store.pushSubscriptions([caller.deviceId]);
    return {
      vapidPublicKey: this.#vapid?.publicKey ?? null,
      subscription: sub ? { host: endpointHost(new URL(sub.endpoint)), since: sub.createdAt } : null,
    };
  }
}
