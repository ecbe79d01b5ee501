/** What the dialer's field holds, read as something a SIP gateway can call. */
export type DialTarget =
  | { ok: true; kind: "number"; uri: string }
  | { ok: true; kind: "sip"; uri: string }
  | { ok: false; reason: "empty" | "invalid" };

/** The gateway refuses longer numbers (its normalizeNumber), and a ForeignParty's uri is at most 256. */
const MAX_DIGITS = 32;
const MAX_URI_CHARS = 256;

/**
 * Reads what a person typed into the dialer: a phone number (digits, `*`, `#`, with spaces, dashes
 * and parentheses as people write them, and an optional leading `+`) becomes `tel:` with the
 * separators removed; a `sip:` or `sips:` URI is passed on as it is (the gateway parses it); anything
 * else is refused here, so a typo is caught before a call is placed.
 */
export function parseDialTarget(input: string): DialTarget {
  const text = input.trim();
  if (!text) return { ok: false, reason: "empty" };
  if (/^sips?:/i.test(text)) {
    // Something after the scheme, no spaces, and not more than the call signal carries.
    const rest = text.slice(text.indexOf(":") + 1);
    if (!rest || /\s/.test(text) || text.length > MAX_URI_CHARS || rest.startsWith("@") || rest.endsWith("@"))
      return { ok: false, reason: "invalid" };
    return { ok: true, kind: "sip", uri: text };
  }
  // "tel:" typed by hand is a number too.
  const number = /^tel:/i.test(text) ? text.slice(4) : text;
  if (!/^\+?[\d*#\s()-]+$/.test(number)) return { ok: false, reason: "invalid" };
  const compact = number.replace(/[\s()-]/g, "");
  const digits = compact.replace(/^\+/, "");
  if (digits.length === 0 || digits.length > MAX_DIGITS || !/\d/.test(digits))
    return { ok: false, reason: "invalid" };
  return { ok: true, kind: "number", uri: `tel:${compact}` };
}

/** How a phone party is shown: a number without its `tel:` scheme, any other address as it is. */
export function phonePartyLabel(uri: string): string {
  return /^tel:/i.test(uri) ? uri.slice(4) : uri;
}
