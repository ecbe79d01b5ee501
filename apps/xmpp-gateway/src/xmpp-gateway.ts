import { isIP } from "node:net";
import { join } from "node:path";
import type { SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import { BridgedIdentities } from "./bridged-identities.ts";
import { DeliveryJournal } from "./delivery-journal.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf, Inbound } from "./inbound.ts";
import { jidOfBridged } from "./jid.ts";
import { Outbound } from "./outbound.ts";
import { ReconnectBackoff } from "./reconnect-backoff.ts";
import { BoundedStreamParser, MAX_STANZA_BYTES, refusalAnswer, type RefusedStanza } from "./stanza-limits.ts";
import { parseMessageStanza } from "./stanzas.ts";
import { type XmlElement, xmppComponent } from "./xmpp-library.ts";

export type XmppGatewayOptions = {
  /** The gateway's own Sori account (approved), owner of the server's `xmpp` namespace (`--bridges`). */
  client: SoriClient;
  /** The XMPP server's component port, e.g. `xmpp://127.0.0.1:5347`. */
  service: string;
  /** The component's domain: Sori user `alice` is `alice@<domain>` on the XMPP network. */
  domain: string;
  /** The component secret shared with the XMPP server. */
  secret: string;
  /** Where the bridged identities' keys and state are kept. */
  dataDir: string;
  log: Logger;
  /** Messages per second one XMPP address may send on average (default 10; bursts of 60). */
  messagesPerSecond?: number;
  /** Largest stanza taken from the XMPP server, in bytes (default 256 KiB); larger ones are refused. */
  maxStanzaBytes?: number;
  /** Waits between tries to connect again (default 1 s doubling to 30 s). */
  reconnect?: { firstMs?: number; maxMs?: number };
};

export type XmppGatewayStats = {
  online: boolean;
  identities: number;
  toSori: number;
  toXmpp: number;
  /** Stanzas dropped: duplicates, over the rate, malformed, too large, for nobody, unreadable (OMEMO). */
  dropped: number;
};

export type XmppGateway = {
  /** Resolves once the component is connected and authenticated. */
  online(): Promise<void>;
  stats(): XmppGatewayStats;
  stop(): Promise<void>;
};

/**
 * The XMPP gateway: an XEP-0114 component on an XMPP server that joins its users to Sori users. Each
 * XMPP address is a bridged identity (`xmpp:juliet@example.org`) whose one device this gateway runs,
 * so the Sori side of every chat stays MLS; the leg between this gateway and XMPP is not end-to-end
 * encrypted, and Sori clients say so for bridged identities.
 */
export async function startXmppGateway(o: XmppGatewayOptions): Promise<XmppGateway> {
  const { client: gateway, log } = o;
  const domain = o.domain.toLowerCase();
  const maxStanzaBytes = o.maxStanzaBytes ?? MAX_STANZA_BYTES;
  const counters = { toSori: 0, toXmpp: 0, dropped: 0 };
  const journal = DeliveryJournal.open(join(o.dataDir, "delivery-journal"), {
    log,
    trustWrites: isLoopbackService(o.service),
  });
  const onRefused = (r: RefusedStanza): void => {
    counters.dropped++;
    log.warn("xmpp.stanza_refused", { reason: r.reason, stanza: r.name.slice(0, 32) });
    const answer = refusalAnswer(r, domain, maxStanzaBytes);
    if (answer) void send(answer);
  };
  const component = xmppComponent({
    service: o.service,
    domain,
    password: o.secret,
    parser: () => new BoundedStreamParser({ maxStanzaBytes }).on("refused", onRefused),
  });
  const backoff = new ReconnectBackoff(component, log, o.reconnect);
  let markOnline: () => void = () => undefined;
  const onlineOnce = new Promise<void>((resolve) => (markOnline = resolve));

  const sendTracked = async (stanza: XmlElement, written: () => void): Promise<boolean> => {
    if (component.status !== "online") return false;
    let marked = false;
    const mark = (): void => {
      if (marked) return;
      marked = true;
      written();
    };
    try {
      const sending = component.send(stanza);
      // The library writes to the socket before its first await: with nothing left buffered in Node,
      // the kernel has every byte now (it takes the rest later, and says so by resolving).
      if (component.socket?.writableLength === 0) mark();
      await sending;
      mark();
      return true;
    } catch {
      return false;
    }
  };
  const send = (stanza: XmlElement): Promise<boolean> => sendTracked(stanza, () => undefined);
  // The parts reach each other through the context; the identities are set just below.
  const ctx = { gateway, domain, log, counters, component, journal, send, sendTracked } as Omit<
    GatewayContext,
    "identities"
  > &
    Partial<Pick<GatewayContext, "identities">>;
  const inbound = new Inbound(ctx as GatewayContext, o.messagesPerSecond ?? 10);
  const outbound = new Outbound(ctx as GatewayContext);
  ctx.identities = new BridgedIdentities({
    gateway,
    dir: o.dataDir,
    log,
    attach: (username, client) => {
      client.on("message", () => void outbound.flush(username, client));
      client.on("message-status", (s) => inbound.statusChanged(s.id, s.status));
    },
  });
  const identities = ctx.identities;

  component.on("stanza", (stanza) => {
    try {
      if (stanza.is("message")) inbound.handle(parseMessageStanza(stanza));
    } catch (error) {
      // Thrown here it would come out of the socket's data handler and end the process.
      counters.dropped++;
      log.error("xmpp.stanza_failed", { reason: codeOf(error) });
    }
  });
  component.on("online", () => {
    log.info("xmpp.online", {});
    markOnline();
    outbound.flushAll();
    inbound.sendDueReceipts();
    inbound.requeue();
  });
  component.on("offline", () => log.info("xmpp.offline", {}));
  component.on("disconnect", () => log.info("xmpp.disconnected", {}));
  component.on("error", (error) => {
    const code = (error as Error & { code?: unknown }).code;
    log.warn("xmpp.stream_error", { reason: typeof code === "string" ? code : error.name });
  });

  gateway.on("bridge-wanted", (r) => {
    if (!jidOfBridged(r.username)) return;
    void identities.ensure(r.username).catch((error: unknown) => {
      log.warn("xmpp.identity_failed", { reason: codeOf(error) });
    });
  });

  await identities.load();
  // Before the component connects: what a previous run took goes to Sori ahead of anything new.
  await inbound.recover();
  await backoff.start();

  return {
    online: () => onlineOnce,
    stats: () => ({
      online: component.status === "online",
      identities: identities.all().length,
      ...counters,
    }),
    stop: async () => {
      backoff.stop();
      await outbound.stop();
      await component.stop().catch(() => undefined);
      await inbound.stop();
      await identities.close();
      journal.close();
    },
  };
}

/**
 * Whether the XMPP server is on this host: then the kernel hands over what the gateway writes within
 * the write itself, and a stanza written before a crash counts as passed on (decision 16).
 */
function isLoopbackService(service: string): boolean {
  const host = new URL(service).hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
