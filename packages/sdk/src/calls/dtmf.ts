/** Why DTMF tones could not be sent. */
export type DtmfErrorCode =
  /** Something other than 0-9, *, #, A-D (or nothing at all) was asked for. */
  | "invalid-tones"
  /** The call is not connected yet, or has ended. */
  | "not-connected"
  /** This call's media cannot carry telephone-events (no platform support, or not negotiated). */
  | "not-available";

/** DTMF tones were refused; `code` says why. */
export class DtmfError extends Error {
  readonly code: DtmfErrorCode;
  constructor(code: DtmfErrorCode, message: string) {
    super(message);
    this.name = "DtmfError";
    this.code = code;
  }
}

// The sixteen RFC 4733 DTMF events, as WebRTC's insertDTMF names them (upper-case letters).
const TONES = /^[0-9A-D#*]+$/;

/** The tones normalised for sending (letters upper-cased), or a DtmfError for anything else. */
export function checkDtmfTones(tones: string): string {
  const upper = tones.toUpperCase();
  if (!TONES.test(upper))
    throw new DtmfError("invalid-tones", `DTMF tones are 0-9, *, #, A-D; got ${JSON.stringify(tones)}`);
  return upper;
}

// RFC 4733 §3.2: events 0–15 are the keypad's keys in this order; 16 (flash) and above are not keys.
const KEYS = "0123456789*#ABCD";
const TELEPHONE_EVENT_BYTES = 4;
/** How many past events are remembered, so a late or repeated packet of one is not a new key. */
const RECENT_EVENTS = 8;

/**
 * Turns received RFC 4733 telephone-event packets into key presses: one key per event however many
 * packets carry it (a sender repeats an event every 50 ms or so while the key is down, and its end
 * packet three times, §2.5.1.4). Every packet of one event carries the RTP timestamp of its start,
 * which is what tells two presses of the same key apart. Platforms feed it what their audio receiver
 * gets with the telephone-event payload type.
 */
export class DtmfReceiver {
  readonly #recent: number[] = [];

  /** The key a packet starts, or undefined (a packet of an event already seen, a non-key event, or junk). */
  push(timestamp: number, payload: Uint8Array): string | undefined {
    if (payload.length < TELEPHONE_EVENT_BYTES) return undefined;
    const key = KEYS[payload[0]!];
    if (key === undefined || this.#recent.includes(timestamp)) return undefined;
    this.#recent.push(timestamp);
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
    return key;
  }
}

/** One 20 ms frame's telephone-event packet, which a platform sends instead of that frame's audio. */
export type DtmfFrame = {
  /** The RTP timestamp of the event's start (every packet of one event carries it, §2.3.1). */
  timestamp: number;
  /** The first packet of an event (§2.3.3). */
  marker: boolean;
  /** Event, end bit and volume, duration: the four bytes of §2.3. */
  payload: Uint8Array;
  /** The end packet goes three times (§2.5.1.4), each with its own sequence number. */
  copies: number;
};

const FRAME_SAMPLES = 160;
const FRAME_MS = 20;
/** -10 dBm0, what phones send (§2.3.2 leaves it to the sender). */
const VOLUME = 10;

/**
 * The sending side of RFC 4733 keys for a platform that makes its own RTP frames every 20 ms at 8000
 * Hz (the werift platform): queued keys become telephone-event packets in place of audio frames,
 * each key a 100 ms event and a 70 ms gap of audio after it (as browsers' insertDTMF is asked for).
 * Events share the audio stream's SSRC, sequence numbers and clock (§2.1).
 */
export class DtmfSender {
  readonly #keys: number[] = [];
  readonly #toneFrames: number;
  readonly #gapFrames: number;
  #current: { event: number; start: number; frames: number } | undefined;
  #gap = 0;

  constructor(o: { toneMs?: number; gapMs?: number } = {}) {
    this.#toneFrames = Math.max(2, Math.ceil((o.toneMs ?? 100) / FRAME_MS));
    this.#gapFrames = Math.ceil((o.gapMs ?? 70) / FRAME_MS);
  }

  /** Queues checked tones (checkDtmfTones) after any still being sent. */
  enqueue(tones: string): void {
    for (const t of checkDtmfTones(tones)) this.#keys.push(KEYS.indexOf(t));
  }

  /** Keys queued or being sent. */
  get pending(): number {
    return this.#keys.length + (this.#current ? 1 : 0);
  }

  /** What the frame at `timestamp` carries: an event packet, or undefined for the frame's own audio. */
  next(timestamp: number): DtmfFrame | undefined {
    if (!this.#current) {
      if (this.#gap > 0) {
        this.#gap--;
        return undefined;
      }
      const event = this.#keys.shift();
      if (event === undefined) return undefined;
      this.#current = { event, start: timestamp >>> 0, frames: 0 };
    }
    const c = this.#current;
    c.frames++;
    const end = c.frames >= this.#toneFrames;
    const duration = c.frames * FRAME_SAMPLES;
    const payload = new Uint8Array([c.event, (end ? 0x80 : 0) | VOLUME, duration >> 8, duration & 0xff]);
    if (end) {
      this.#current = undefined;
      this.#gap = this.#gapFrames;
    }
    return { timestamp: c.start, marker: c.frames === 1, payload, copies: end ? 3 : 1 };
  }
}
