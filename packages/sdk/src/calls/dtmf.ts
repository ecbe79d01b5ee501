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
