import type { SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import type { BridgedIdentities } from "./bridged-identities.ts";
import type { DeliveryJournal } from "./delivery-journal.ts";
import type { XmlElement, XmppComponent } from "./xmpp-library.ts";

/** Counters the gateway reports (stats(), logs). */
type GatewayCounters = { toSori: number; toXmpp: number; dropped: number };

/** What the gateway's parts share: its account, its domain, the component link and the identities. */
export type GatewayContext = {
  /** The gateway's own Sori account. */
  gateway: SoriClient;
  /** The component's domain, lower case. */
  domain: string;
  log: Logger;
  counters: GatewayCounters;
  identities: BridgedIdentities;
  component: XmppComponent;
  /** What was passed on in both directions, kept across a crash. */
  journal: DeliveryJournal;
  /** Sends a stanza if the component is online; false if it is not (or the write failed). */
  send(stanza: XmlElement): Promise<boolean>;
  /** Like send, and calls `written` as soon as the stanza's bytes are with the kernel. */
  sendTracked(stanza: XmlElement, written: () => void): Promise<boolean>;
};
