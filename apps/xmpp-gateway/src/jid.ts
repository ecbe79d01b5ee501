import { splitBridgedUsername } from "@sori/protocol";

/** The bridged username's namespace for XMPP addresses. */
const XMPP_NAMESPACE = "xmpp";

/** Characters RFC 7622 forbids in a localpart (besides spaces and controls). */
const LOCALPART_FORBIDDEN = /["&'/:<>@\s\p{Cc}\\]/u;
const DOMAIN =
  /^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62})?)(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62})?)*$|^\[[0-9a-fA-F:.]+\]$|^\d{1,3}(?:\.\d{1,3}){3}$/u;
/** Longest bare JID the gateway bridges: what a bridged username's address may hold. */
const MAX_BARE_JID = 256;

/** A bare JID (no resource), normalised: lower case (RFC 7622's case mapping for these), NFC. */
export type BareJid = { local: string; domain: string };

/** `juliet@example.org/balcony` → its bare JID, or undefined if it is not one the gateway can bridge. */
export function parseJid(text: string | undefined): BareJid | undefined {
  if (!text) return undefined;
  const slash = text.indexOf("/");
  const bare = (slash === -1 ? text : text.slice(0, slash)).normalize("NFC").toLowerCase();
  if (bare.length > MAX_BARE_JID) return undefined;
  const at = bare.lastIndexOf("@");
  const local = at === -1 ? "" : bare.slice(0, at);
  const domain = at === -1 ? bare : bare.slice(at + 1);
  if (local.length > 0 && LOCALPART_FORBIDDEN.test(local)) return undefined;
  if (domain.length === 0 || domain.length > 253 || !DOMAIN.test(domain)) return undefined;
  return { local, domain };
}

export function jidText(jid: BareJid): string {
  return jid.local ? `${jid.local}@${jid.domain}` : jid.domain;
}

/** The Sori username of the bridged identity that stands for this XMPP address. */
export function bridgedUsernameOf(jid: BareJid): string {
  return `${XMPP_NAMESPACE}:${jidText(jid)}`;
}

/** The XMPP address a bridged username stands for (undefined for others' namespaces, plain names). */
export function jidOfBridged(username: string): BareJid | undefined {
  const parts = splitBridgedUsername(username);
  if (parts?.namespace !== XMPP_NAMESPACE) return undefined;
  const jid = parseJid(parts.address);
  return jid?.local ? jid : undefined;
}

/** The Sori username an address on the gateway's own domain names (`alice@sori.example.org`). */
export function soriUsernameAt(jid: BareJid, domain: string): string | undefined {
  if (jid.domain !== domain.toLowerCase()) return undefined;
  return /^[a-z0-9_.-]{3,32}$/.test(jid.local) ? jid.local : undefined;
}
