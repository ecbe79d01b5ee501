import type { PushWakeKind } from "@sori/protocol";
import type { Logger } from "../logger.ts";
import type { PushSubscriptionRecord, Store } from "../store/store.ts";
import { checkEndpoint, endpointHost, type PushHostPolicy } from "./push-hosts.ts";
import { PushClient, type PushRequest } from "./push-request.ts";
import { afterAttempt, DEFAULT_RETRY, type PushAttempt, type RetryTimings } from "./push-retry.ts";
import type { Vapid } from "./vapid.ts";
import { DEFAULT_WAKE_TIMINGS, WakePolicy, type WakeTimings } from "./wake-policy.ts";
import { encryptWebPush } from "./web-push-encryption.ts";

/**
 * Per kind: how long the push service keeps an undelivered wake-up (TTL), its Urgency, and how long
 * the server keeps retrying. A call is worth nothing after its ring (45 s); a message waits a day.
 */
const KINDS: Record<PushWakeKind, { ttlS: number; urgency: "high" | "normal"; retryForMs: number }> = {
  message: { ttlS: 86_400, urgency: "normal", retryForMs: 10 * 60_000 },
  call: { ttlS: 60, urgency: "high", retryForMs: 30_000 },
};
/**
 * Every payload is padded to this many bytes, so that the push service cannot tell the kinds apart by
 * size (it sees the Urgency and TTL, which say as much; the point is that nothing else shows).
 */
const PAYLOAD_BYTES = 32;
/** Pushes in progress at once, and waiting for their turn; past that, wake-ups are dropped (logged). */
const MAX_ACTIVE = 32;
const MAX_WAITING = 10_000;
/** Devices whose subscription (or lack of one) is kept in memory. */
const MAX_CACHED = 100_000;

type Cached = { userId: string } | null;

export type WakerOptions = {
  store: Pick<Store, "pushSubscriptions" | "deletePushSubscription">;
  vapid: Vapid;
  policy: PushHostPolicy;
  log: Logger;
  /** Whether a device has an authenticated connection now: only offline devices are woken. */
  isConnected(deviceId: string): boolean;
  now?: () => number;
  wake?: Partial<WakeTimings>;
  retry?: Partial<RetryTimings>;
};

export type WakerStats = { sent: number; gone: number; failed: number };

/**
 * Wakes offline devices through Web Push (RFC 8030): a payload of only `{kind}`, encrypted to the
 * subscription (RFC 8291), signed for by the server's VAPID key (RFC 8292). What goes out is decided by
 * WakePolicy (collapse, rate); this does the lookups, the requests, retries and dropping subscriptions
 * the push service says are gone. Logs carry the device and the push service's host, never the
 * endpoint (which names the device at its push service) nor keys or payloads.
 */
export class Waker {
  readonly #o: WakerOptions;
  readonly #now: () => number;
  readonly #policy: WakePolicy;
  readonly #retry: RetryTimings;
  readonly #client: PushClient;
  readonly #cache = new Map<string, Cached>();
  readonly #lookups = new Map<string, Promise<Cached>>();
  readonly #deferred = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #sleeps = new Set<{ timer: ReturnType<typeof setTimeout>; wake: () => void }>();
  readonly #waiting: (() => Promise<void>)[] = [];
  readonly #running = new Set<Promise<void>>();
  #closed = false;
  readonly stats: WakerStats = { sent: 0, gone: 0, failed: 0 };

  constructor(options: WakerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#policy = new WakePolicy({ ...DEFAULT_WAKE_TIMINGS, ...options.wake });
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#client = new PushClient({ publicOnly: options.policy.hosts === "any" });
  }

  /**
   * Something for `deviceId` arrived while it may be offline. `from`: the account it came from, so a
   * person's own messages never wake their other devices (undefined for notices about the account).
   */
  wake(deviceId: string, kind: PushWakeKind, from: string | undefined): void {
    if (this.#closed || this.#o.isConnected(deviceId)) return;
    const cached = this.#cache.get(deviceId);
    if (cached === undefined) {
      void this.#lookUp(deviceId).then((found) => {
        if (found) this.#decide(deviceId, kind, from, found);
      });
      return;
    }
    if (cached) this.#decide(deviceId, kind, from, cached);
  }

  /** The device connected: what waited for it is on its way, so the next message wakes it again. */
  connected(deviceId: string): void {
    this.#policy.connected(deviceId);
    clearTimeout(this.#deferred.get(deviceId));
    this.#deferred.delete(deviceId);
  }

  /** The device subscribed (its account) or unsubscribed (null) through this server. */
  subscriptionChanged(deviceId: string, userId: string | null): void {
    this.#remember(deviceId, userId === null ? null : { userId });
  }

  #decide(deviceId: string, kind: PushWakeKind, from: string | undefined, sub: { userId: string }): void {
    if (from !== undefined && from === sub.userId) return;
    const decision = this.#policy.decide(deviceId, kind, this.#now());
    if (decision.send) {
      this.#enqueue(() => this.#send(deviceId, kind));
      return;
    }
    // A message wake-up over the rate is owed, not lost: it goes once the device's bucket has a token.
    if (decision.why === "limited" && kind === "message" && !this.#deferred.has(deviceId)) {
      this.#o.log.debug("push.deferred", { device: deviceId, inS: Math.ceil(decision.retryInMs / 1000) });
      const timer = setTimeout(() => {
        this.#deferred.delete(deviceId);
        this.wake(deviceId, "message", undefined);
      }, decision.retryInMs);
      timer.unref();
      this.#deferred.set(deviceId, timer);
    }
  }

  #lookUp(deviceId: string): Promise<Cached> {
    let pending = this.#lookups.get(deviceId);
    if (!pending) {
      pending = this.#o.store
        .pushSubscriptions([deviceId])
        .then(
          ([s]) => {
            const found: Cached = s ? { userId: s.userId } : null;
            this.#remember(deviceId, found);
            return found;
          },
          // The store failed: no wake-up this time, and the next one asks again.
          () => null,
        )
        .finally(() => this.#lookups.delete(deviceId));
      this.#lookups.set(deviceId, pending);
    }
    return pending;
  }

  #remember(deviceId: string, value: Cached): void {
    this.#cache.delete(deviceId);
    this.#cache.set(deviceId, value);
    if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
  }

  #enqueue(job: () => Promise<void>): void {
    if (this.#running.size >= MAX_ACTIVE) {
      if (this.#waiting.length >= MAX_WAITING) {
        this.#o.log.warn("push.dropped", { reason: "too many pushes waiting" });
        return;
      }
      this.#waiting.push(job);
      return;
    }
    const run: Promise<void> = job()
      .catch((error: unknown) =>
        this.#o.log.error("push.failed", { error: error instanceof Error ? error.name : "unknown" }),
      )
      .finally(() => {
        this.#running.delete(run);
        const next = this.#waiting.shift();
        if (next && !this.#closed) this.#enqueue(next);
      });
    this.#running.add(run);
  }

  async #send(deviceId: string, kind: PushWakeKind): Promise<void> {
    // Read again: it may have been replaced or removed (a revoked device's is) since it was cached.
    const [sub] = await this.#o.store.pushSubscriptions([deviceId]);
    if (!sub) {
      this.#remember(deviceId, null);
      this.#policy.unsent(deviceId, kind);
      return;
    }
    const log = this.#o.log;
    let url: URL;
    try {
      // The operator may have narrowed --push-hosts since the device subscribed.
      url = checkEndpoint(sub.endpoint, this.#o.policy);
    } catch {
      log.debug("push.host_not_allowed", { device: deviceId, host: safeHost(sub.endpoint) });
      this.#policy.unsent(deviceId, kind);
      return;
    }
    const host = endpointHost(url);
    const started = this.#now();
    const deadline = started + KINDS[kind].retryForMs;
    for (let n = 1; ; n++) {
      if (this.#closed) return;
      const attempt = await this.#client.post(this.#request(url, sub, kind), this.#now);
      const next = afterAttempt(attempt, n, this.#now(), deadline, this.#retry);
      if ("retryInMs" in next) {
        log.debug("push.retry", {
          device: deviceId,
          host,
          ...attemptFields(attempt),
          inMs: Math.round(next.retryInMs),
        });
        await this.#sleep(next.retryInMs);
        continue;
      }
      const fields = { device: deviceId, host, kind, attempts: n, ...attemptFields(attempt) };
      switch (next.done) {
        case "sent":
          this.stats.sent++;
          log.debug("push.sent", fields);
          return;
        case "gone":
          this.stats.gone++;
          // Only that endpoint: the device may have subscribed anew while this push was under way.
          await this.#o.store.deletePushSubscription(deviceId, sub.endpoint);
          this.#remember(deviceId, null);
          log.info("push.subscription_gone", fields);
          return;
        case "refused":
        case "gave-up":
          this.stats.failed++;
          log.warn(next.done === "refused" ? "push.refused" : "push.gave_up", fields);
          return;
      }
    }
  }

  #request(url: URL, sub: PushSubscriptionRecord, kind: PushWakeKind): PushRequest {
    const payload = Buffer.from(JSON.stringify({ kind }));
    const body = encryptWebPush(payload, sub, { padding: PAYLOAD_BYTES - payload.length });
    const { ttlS, urgency } = KINDS[kind];
    return {
      url,
      body,
      headers: {
        authorization: this.#o.vapid.authorization(url, this.#now()),
        "content-encoding": "aes128gcm",
        "content-type": "application/octet-stream",
        ttl: String(ttlS),
        urgency,
        // The collapse key: an undelivered wake-up of the same kind is replaced, not stacked.
        topic: kind,
      },
    };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeps.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.#sleeps.add(entry);
    });
  }

  /** Stops: no new pushes, retries end, connections close. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#deferred.values()) clearTimeout(t);
    this.#deferred.clear();
    this.#waiting.length = 0;
    for (const s of this.#sleeps) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.#sleeps.clear();
    // Closing the client's connections first ends requests still waiting for an answer.
    this.#client.close();
    await Promise.allSettled([...this.#running]);
  }
}

const attemptFields = (a: PushAttempt): { status?: number; error?: string } =>
  "status" in a ? { status: a.status } : { error: a.failed };

function safeHost(endpoint: string): string {
  try {
    return endpointHost(new URL(endpoint));
  } catch {
    return "invalid";
  }
}
