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
