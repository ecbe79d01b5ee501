import { type BareJid, parseJid } from "./jid.ts";
import { xml, type XmlElement } from "./xmpp-library.ts";

/** The four subscription types of RFC 6121 §3: ask, approve, take back one's ask, refuse or revoke. */
export type SubscriptionType = "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed";

const SUBSCRIPTION_TYPES: readonly string[] = ["subscribe", "subscribed", "unsubscribe", "unsubscribed"];

function isSubscriptionType(type: string): type is SubscriptionType {
  return SUBSCRIPTION_TYPES.includes(type);
}

/** A `<presence/>` from the XMPP network to an address of the gateway's domain, parsed at the edge. */
export type PresenceStanza =
  | { kind: "subscription"; type: SubscriptionType; from: BareJid; to: BareJid }
  /** The XMPP server asks for the current presence of a contact (RFC 6121 §4.3). */
  | { kind: "probe"; from: BareJid; to: BareJid }
  /**
   * Anything else: an XMPP user's own availability (which the gateway does not pass on to Sori yet),
   * errors, or something malformed. Never answered, whoever it is for.
   */
  | { kind: "ignored"; why: string };

/** What a presence stanza to the gateway's domain is. */
export function parsePresenceStanza(stanza: XmlElement): PresenceStanza {
  if (!stanza.is("presence")) return { kind: "ignored", why: "not a presence" };
  const from = parseJid(stanza.attrs.from);
  const to = parseJid(stanza.attrs.to);
  if (!from?.local || !to?.local) return { kind: "ignored", why: "no usable from or to address" };
  const type = stanza.attrs.type;
  if (type === "probe") return { kind: "probe", from, to };
  if (type !== undefined && isSubscriptionType(type)) return { kind: "subscription", type, from, to };
  return { kind: "ignored", why: `presence type ${type ?? "available"}` };
}

/** A subscription stanza from a Sori user's address (`alice@<domain>`) to an XMPP user. */
export function subscriptionStanza(from: string, to: string, type: SubscriptionType): XmlElement {
  return xml("presence", { from, to, type });
}

/**
 * The Sori user's presence as their XMPP contacts see it: available while the gateway runs (Sori has
 * no presence of its own yet), or unavailable when the contact ends.
 */
export function availability(from: string, to: string, available: boolean): XmlElement {
  return xml("presence", { from, to, type: available ? undefined : "unavailable" });
}
