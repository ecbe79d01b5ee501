import type { PushWakeKind } from "@sori/protocol";

export type WakeTimings = {
  /**
   * After a message wake-up, no other until the device has connected or this long has passed: a
   * burst of messages to an offline device is one push (the device fetches them all when it wakes).
   */
  quietMs: number;
  /** After a call wake-up, no other call wake-up for this long (a ring's follow-ups never wake). */
  callQuietMs: number;
  /** Pushes per device: a burst of this many, then one per `refillMs`. */
  burst: number;
  refillMs: number;
};

export const DEFAULT_WAKE_TIMINGS: WakeTimings = {
  quietMs: 120_000,
  callQuietMs: 10_000,
  burst: 10,
  refillMs: 60_000,
};

export type WakeDecision =
  | { send: true }
  | { send: false; why: "collapsed" }
  /** Over the device's rate: a message wake-up may be tried again in `retryInMs`. */
  | { send: false; why: "limited"; retryInMs: number };

type DeviceState = { message?: number; call?: number; tokens: number; at: number };

/** Bounds the memory of devices woken while offline; past it, settled entries are forgotten first. */
const MAX_DEVICES = 50_000;

/**
 * Which wake-ups go out: collapse (one push per burst, until the device connects or a quiet interval
 * passes) and a token bucket per device. Pure over an injected clock; the Waker does the I/O.
 */
export class WakePolicy {
  readonly #t: WakeTimings;
  readonly #devices = new Map<string, DeviceState>();

  constructor(timings: WakeTimings = DEFAULT_WAKE_TIMINGS) {
    this.#t = timings;
  }

  /** Whether to wake `deviceId` for `kind` now; a "send" answer counts as sent. */
  decide(deviceId: string, kind: PushWakeKind, now: number): WakeDecision {
    const t = this.#t;
    const state = this.#devices.get(deviceId) ?? { tokens: t.burst, at: now };
    state.tokens = Math.min(t.burst, state.tokens + (now - state.at) / t.refillMs);
    state.at = now;
    const last = state[kind];
    if (last !== undefined && now - last < (kind === "call" ? t.callQuietMs : t.quietMs))
      return { send: false, why: "collapsed" };
    if (state.tokens < 1) {
      this.#remember(deviceId, state, now);
      return { send: false, why: "limited", retryInMs: Math.ceil((1 - state.tokens) * t.refillMs) };
    }
    state.tokens -= 1;
    state[kind] = now;
    this.#remember(deviceId, state, now);
    return { send: true };
  }

  /** The device connected: it has what was waiting, so the next message wakes it again. */
  connected(deviceId: string): void {
    const state = this.#devices.get(deviceId);
    if (!state) return;
    delete state.message;
    delete state.call;
  }

  /** A wake-up decided on was not sent after all (no subscription): it does not hold back the next. */
  unsent(deviceId: string, kind: PushWakeKind): void {
    const state = this.#devices.get(deviceId);
    if (state?.[kind] === undefined) return;
    delete state[kind];
    state.tokens = Math.min(this.#t.burst, state.tokens + 1);
  }

  #remember(deviceId: string, state: DeviceState, now: number): void {
    this.#devices.set(deviceId, state);
    if (this.#devices.size <= MAX_DEVICES) return;
    const t = this.#t;
    for (const [id, s] of this.#devices) {
      const quiet =
        (s.message === undefined || now - s.message >= t.quietMs) &&
        (s.call === undefined || now - s.call >= t.callQuietMs);
      if (quiet && s.tokens + (now - s.at) / t.refillMs >= t.burst) this.#devices.delete(id);
    }
    // Still full (an attack from many devices at once): the oldest go, which only lets them be woken sooner.
    for (const id of this.#devices.keys()) {
      if (this.#devices.size <= MAX_DEVICES) break;
      this.#devices.delete(id);
    }
  }
}
