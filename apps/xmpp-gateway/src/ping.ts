import { xml, type XmppComponent } from "./xmpp-library.ts";

/**
 * Whether a XEP-0199 ping from `from` to `to` is answered within `timeoutMs`. An error answer is an
 * answer too: the XMPP server handles a stream's stanzas in order, so either way it processed what
 * the stream carried before the ping, and the link works. Only silence says otherwise.
 */
export async function pingAnswered(
  component: Pick<XmppComponent, "iqCaller">,
  o: { from: string; to: string; timeoutMs: number },
): Promise<boolean> {
  const ping = xml("iq", { type: "get", from: o.from, to: o.to }, xml("ping", { xmlns: "urn:xmpp:ping" }));
  try {
    await component.iqCaller.request(ping, o.timeoutMs);
    return true;
  } catch (error) {
    return error instanceof Error && error.name === "StanzaError";
  }
}
