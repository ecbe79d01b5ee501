import { PUSH_LEVEL } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";

/**
 * A Web Push subscription as the browser's `PushSubscription.toJSON()` gives it (the keys as
 * base64url). Passing that object as it is works.
 */
export type PushSubscriptionJson = {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  expirationTime?: number | null;
};

/** The server's push set-up and this device's subscription as the server has it. */
export type PushStatus = {
  /** The key to subscribe with (`applicationServerKey`); null when the server has push switched off. */
  vapidPublicKey: string | null;
  /** This device's subscription: only its push service's host and when it was registered. */
  subscription: { host: string; since: number } | null;
};

type PushDeps = {
  /** Resolves once connected (the server's feature level is known then). */
  waitConnected(): Promise<void>;
  featureLevel(): number;
};

/**
 * Web Push: registering this device's push subscription, so that the server wakes it while it is
 * offline (a service worker, which then connects and fetches the queue). A wake-up carries only
 * "message" or "call", never content, sender or chat. See docs/SDK.md "Push notifications".
 */
export class Push {
  readonly #ctx: Pick<DeviceContext, "request">;
  readonly #deps: PushDeps;

  constructor(ctx: Pick<DeviceContext, "request">, deps: PushDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** The server's VAPID public key (base64url) for `PushManager.subscribe`; null when push is off there. */
  async vapidPublicKey(): Promise<string | null> {
    return (await this.status()).vapidPublicKey;
  }

  /**
   * Registers the subscription (replacing this device's previous one). Refused with `forbidden` when
   * the server does not allow its push service's host (or has push off), `bad-request` for an
   * endpoint that is not https or keys that are not a browser's.
   */
  async subscribe(subscription: PushSubscriptionJson): Promise<void> {
    await this.#supported();
    const { endpoint, keys } = subscription;
    await this.#ctx.request({
      type: "push.subscribe",
      endpoint,
      keys: { p256dh: keys.p256dh, auth: keys.auth },
    });
  }

  /** Removes this device's subscription from the server; whether it had one. */
  async unsubscribe(): Promise<boolean> {
    await this.#supported();
    return (await this.#ctx.request({ type: "push.unsubscribe" })).removed;
  }

  async status(): Promise<PushStatus> {
    await this.#supported();
    return this.#ctx.request({ type: "push.status" });
  }

  async #supported(): Promise<void> {
    await this.#deps.waitConnected();
    if (this.#deps.featureLevel() < PUSH_LEVEL)
      throw new SdkError("forbidden", "this server is too old for push notifications (feature level 7)");
  }
}
