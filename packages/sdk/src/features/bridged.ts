import { splitBridgedUsername } from "@sori/protocol";

/** Names of the other networks gateways bridge, for "via …" labels. */
const NETWORK_NAMES: Record<string, string> = { xmpp: "XMPP", sip: "SIP", matrix: "Matrix" };

/**
 * The other network a bridged identity's username belongs to ("XMPP" for `xmpp:juliet@example.org`),
 * or undefined for a Sori user. Its chats are end-to-end encrypted only as far as the gateway, and
 * every app says so next to its name.
 */
export function bridgedNetworkOf(username: string): string | undefined {
  const parts = splitBridgedUsername(username);
  if (!parts) return undefined;
  return NETWORK_NAMES[parts.namespace] ?? parts.namespace;
}
