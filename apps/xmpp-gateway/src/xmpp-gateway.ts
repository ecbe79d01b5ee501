import type { SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import { BridgedIdentities } from "./bridged-identities.ts";
import { FeaturesIn } from "./features-in.ts";
import { FeaturesOut } from "./features-out.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf, Inbound } from "./inbound.ts";
import { jidOfBridged, parseJid } from "./jid.ts";
import { MessageIdMaps } from "./message-ids.ts";
import { chatIdOfRoom, parseRoomStanza } from "./muc-stanzas.ts";
import { Outbound } from "./outbound.ts";
import { Rooms } from "./rooms.ts";
import { parsePresenceStanza } from "./presence-stanzas.ts";
import { parseMessageStanza } from "./stanzas.ts";
import { Subscriptions } from "./subscriptions.ts";
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
};

export type XmppGatewayStats = {
  online: boolean;
  identities: number;
  toSori: number;
  toXmpp: number;
  /** Stanzas dropped: duplicates, over the rate, malformed, for nobody, unreadable (OMEMO). */
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
  const counters = { toSori: 0, toXmpp: 0, dropped: 0 };
  const component = xmppComponent({ service: o.service, domain, password: o.secret });
  let markOnline: () => void = () => undefined;
  const onlineOnce = new Promise<void>((resolve) => (markOnline = resolve));

  const send = async (stanza: XmlElement): Promise<boolean> => {
    if (component.status !== "online") return false;
    try {
      await component.send(stanza);
      return true;
    } catch {
      return false;
    }
  };
  // The parts reach each other through the context; the identities are set just below.
  const ctx = { gateway, domain, log, counters, component, send } as Omit<GatewayContext, "identities"> &
    Partial<Pick<GatewayContext, "identities">>;
  const messageIds = new MessageIdMaps({ directoryOf: (u) => ctx.identities?.directoryOf(u), log });
  const featuresIn = new FeaturesIn(ctx as GatewayContext, messageIds);
  const featuresOut = new FeaturesOut(ctx as GatewayContext, messageIds);
  const inbound = new Inbound(ctx as GatewayContext, o.messagesPerSecond ?? 10, featuresIn);
  const outbound: Outbound = new Outbound(ctx as GatewayContext, featuresOut, (username, m, body) =>
    rooms.deliver(username, m, body),
  );
  const subscriptions: Subscriptions = new Subscriptions(ctx as GatewayContext, o.dataDir);
  const rooms: Rooms = new Rooms(ctx as GatewayContext, (username) => {
    const client = ctx.identities?.get(username);
    if (client) void outbound.flush(username, client);
  });
  ctx.identities = new BridgedIdentities({
    gateway,
    dir: o.dataDir,
    log,
    attach: (username, client) => {
      client.on("message", () => void outbound.flush(username, client));
      client.on("message-status", (s) => inbound.statusChanged(s.id, s.status));
      client.on("contact", (c) => subscriptions.contactChanged(username, c));
      client.on("chat", (chat) => {
        void rooms.chatChanged(username, chat).catch((error: unknown) => {
          log.warn("xmpp.room_update_failed", { reason: codeOf(error) });
        });
      });
      client.on("message-updated", (m) => featuresOut.updated(username, client, m));
      client.on("typing", (t) => featuresOut.typing(username, client, t));
    },
  });
  const identities = ctx.identities;

  component.on("stanza", (stanza) => {
    const room = parseRoomStanza(stanza, domain);
    if (room.kind !== "not-room") {
      void rooms.handle(room).catch((error: unknown) => {
        log.warn("xmpp.room_failed", { reason: codeOf(error) });
      });
      return;
    }
    if (stanza.is("message")) inbound.handle(parseMessageStanza(stanza));
    else if (stanza.is("presence")) subscriptions.handle(parsePresenceStanza(stanza));
  });
  component.iqCallee.get("http://jabber.org/protocol/disco#info", "query", async ({ stanza }) => {
    const to = parseJid(stanza.attrs.to);
    if (to?.local && chatIdOfRoom(to.local) !== undefined)
      return rooms.info(to.local, stanza.attrs.from ?? "");
    return undefined;
  });
  component.on("online", () => {
    log.info("xmpp.online", {});
    markOnline();
    outbound.flushAll();
    featuresOut.resend();
    subscriptions.online();
  });
  component.on("offline", () => log.info("xmpp.offline", {}));
  component.on("error", (error) => log.warn("xmpp.stream_error", { reason: error.name }));

  gateway.on("bridge-wanted", (r) => {
    if (!jidOfBridged(r.username)) return;
    void identities.ensure(r.username).catch((error: unknown) => {
      log.warn("xmpp.identity_failed", { reason: codeOf(error) });
    });
  });

  await subscriptions.load();
  await identities.load();
  await component.start().catch((error: unknown) => {
    // The reconnect module keeps trying with backoff; the gateway runs meanwhile.
    log.warn("xmpp.connect_failed", { reason: codeOf(error) });
  });

  return {
    online: () => onlineOnce,
    stats: () => ({
      online: component.status === "online",
      identities: identities.all().length,
      ...counters,
    }),
    stop: async () => {
      component.reconnect.stop();
      featuresIn.stop();
      await outbound.stop();
      await featuresOut.stop();
      await component.stop().catch(() => undefined);
      await inbound.settled();
      await messageIds.close();
      await subscriptions.settled();
      await identities.close();
    },
  };
}
