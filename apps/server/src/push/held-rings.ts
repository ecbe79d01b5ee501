import type { WireRelay } from "@sori/protocol";

/** As long as a ring rings (the SDK's RING_TIMEOUT_MS): a device woken later finds nothing to answer. */
const HOLD_MS = 45_000;
/** Signals kept per device after its ring (the candidates that follow it, a cancel). */
const MAX_FRAMES = 64;
/** Devices with a held ring at once; past it the oldest go first. */
const MAX_DEVICES = 10_000;

type Held = { groupId: string; until: number; frames: WireRelay[] };

/**
 * Rings for devices that were offline when they came, kept for the ring's length with the signals
 * that follow them in the same chat (the caller's candidates and cancel, and the callee's other
 * device answering, which stops the ring), and handed to the device as soon as it connects (a
 * wake-up brings it). Transient messages are otherwise never kept: this is only so that
 * a woken phone finds the call it was woken for. Held in memory only; a restart drops them.
 */
export class HeldRings {
  readonly #held = new Map<string, Held>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A ring for these offline devices (replacing what any of them held). */
  hold(deviceIds: string[], ring: WireRelay): void {
    const until = this.#now() + HOLD_MS;
    for (const id of deviceIds) {
      this.#held.delete(id);
      this.#held.set(id, { groupId: ring.groupId, until, frames: [ring] });
    }
    this.#bound();
  }

  /** A transient message to these offline devices: kept where it follows a ring held for them. */
  follow(deviceIds: string[], frame: WireRelay): void {
    const now = this.#now();
    for (const id of deviceIds) {
      const h = this.#held.get(id);
      if (!h || h.until <= now || h.groupId !== frame.groupId) continue;
      if (h.frames.length < MAX_FRAMES) h.frames.push(frame);
    }
  }

  /** What was held for a device that just connected (and is no longer held). */
  take(deviceId: string): WireRelay[] {
    const h = this.#held.get(deviceId);
    if (!h) return [];
    this.#held.delete(deviceId);
    return h.until > this.#now() ? h.frames : [];
  }

  /** Entries are in the order they were held, so the expired ones are at the front. */
  #bound(): void {
    const now = this.#now();
    for (const [id, h] of this.#held) {
      if (h.until > now && this.#held.size <= MAX_DEVICES) break;
      this.#held.delete(id);
    }
  }
}
