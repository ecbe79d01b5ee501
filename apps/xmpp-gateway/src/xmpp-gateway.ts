import { isIP } from "node:net";
import { join } from "node:path";
import type { SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import { BridgedIdentities } from "./bridged-identities.ts";
import { DeliveryJournal } from "./delivery-journal.ts";
import { FeaturesIn } from "./features-in.ts";
import { FeaturesOut } from "./features-out.ts";
import { FileFetcher, type FileFetchOptions } from "./file-fetch.ts";
import { FileHosting, type FileHostingOptions } from "./file-hosting.ts";
import { FilesIn } from "./files-in.ts";
import { FilesOut } from "./files-out.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf, Inbound } from "./inbound.ts";
import { jidOfBridged, parseJid } from "./jid.ts";
import { MessageIdMaps } from "./message-ids.ts";
import { chatIdOfRoom, parseRoomStanza } from "./muc-stanzas.ts";
import { Outbound } from "./outbound.ts";
import { parsePresenceStanza } from "./presence-stanzas.ts";
import { LinkKeepalive } from "./link-keepalive.ts";
import { ReconnectBackoff } from "./reconnect-backoff.ts";
import { Rooms } from "./rooms.ts";
import { BoundedStreamParser, MAX_STANZA_BYTES, refusalAnswer, type RefusedStanza } from "./stanza-limits.ts";
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
  /** Largest stanza taken from the XMPP server, in bytes (default 256 KiB); larger ones are refused. */
  maxStanzaBytes?: number;
  /** Waits between tries to connect again (default 1 s doubling to 30 s). */
  reconnect?: { firstMs?: number; maxMs?: number };
  /** A ping after this long without a stanza (default 60 s), and how long its answer may take (20 s). */
  keepalive?: { quietMs?: number; answerMs?: number };
  /**
   * Sori → XMPP files: the HTTP(S) server that serves them at expiring links. Without it a file
   * reaches XMPP as its name only.
   */
  fileHosting?: FileHostingOptions;
  /** XMPP → Sori files: limits on fetching what XMPP users link to (always on). */
  fileFetch?: FileFetchOptions;
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
  // First: a port already taken stops the start before anything else is opened.
  const hosting = o.fileHosting && (await FileHosting.start(o.dataDir, o.fileHosting, log));
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
  const keepalive = new LinkKeepalive(component, log, { domain, ...o.keepalive });
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
  const messageIds = new MessageIdMaps({ directoryOf: (u) => ctx.identities?.directoryOf(u), log });
  const featuresIn = new FeaturesIn(ctx as GatewayContext, messageIds);
  const featuresOut = new FeaturesOut(ctx as GatewayContext, messageIds);
  const filesIn = new FilesIn(ctx as GatewayContext, new FileFetcher(o.fileFetch), featuresIn);
  const inbound = new Inbound(ctx as GatewayContext, o.messagesPerSecond ?? 10, featuresIn, filesIn);
  const filesOut = new FilesOut(hosting, log);
  const outbound: Outbound = new Outbound(ctx as GatewayContext, featuresOut, filesOut, (...a) =>
    rooms.deliver(...a),
  );
  const subscriptions: Subscriptions = new Subscriptions(ctx as GatewayContext, o.dataDir);
  const rooms: Rooms = new Rooms(
    ctx as GatewayContext,
    (username) => {
      const client = ctx.identities?.get(username);
      if (client) void outbound.flush(username, client);
    },
    filesIn,
  );
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
      client.on("message-updated", (m) => {
        featuresOut.updated(username, client, m);
        filesOut.updated(m);
      });
      client.on("typing", (t) => featuresOut.typing(username, client, t));
    },
  });
  const identities = ctx.identities;

  component.on("stanza", (stanza) => {
    try {
      const room = parseRoomStanza(stanza, domain);
      if (room.kind !== "not-room") {
        void rooms.handle(room).catch((error: unknown) => {
          log.warn("xmpp.room_failed", { reason: codeOf(error) });
        });
        return;
      }
      if (stanza.is("message")) inbound.handle(parseMessageStanza(stanza));
      else if (stanza.is("presence")) subscriptions.handle(parsePresenceStanza(stanza));
    } catch (error) {
      // Thrown here it would come out of the socket's data handler and end the process.
      counters.dropped++;
      log.error("xmpp.stanza_failed", { reason: codeOf(error) });
    }
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

  await subscriptions.load();
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
      // First, so that what waits for an identity ends at once instead of making it.
      identities.refuseNew();
      backoff.stop();
      keepalive.stop();
      featuresIn.stop();
      await outbound.stop();
      await featuresOut.stop();
      await filesOut.stop();
      await component.stop().catch(() => undefined);
      await inbound.stop();
      await messageIds.close();
      await subscriptions.settled();
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
