import type { Logger } from "@sori/server";
import { TokenBuckets } from "@sori/server";
import { type ChatMessage, SdkError, type SoriClient } from "@sori/sdk";
import { BridgedIdentities } from "./bridged-identities.ts";
import { type BareJid, bridgedUsernameOf, jidOfBridged, jidText, soriUsernameAt } from "./jid.ts";
import {
  chatStanza,
  type InboundStanza,
  messageError,
  parseMessageStanza,
  receiptStanza,
} from "./stanzas.ts";
import { xml, type XmlElement, xmppComponent } from "./xmpp-library.ts";

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

/** How long the XMPP server gets to answer the ping after messages before they are sent again. */
const BARRIER_TIMEOUT_MS = 10_000;
/** Stanza ids remembered per address, to drop a resent duplicate. */
const SEEN_PER_ADDRESS = 500;
/** How long a Sori user's existence is taken as known before asking the directory again. */
const USER_TTL_MS = 60_000;
const OMEMO_REFUSAL = "this contact uses Sori's gateway, which cannot read OMEMO: send without encryption";

/**
 * The XMPP gateway: an XEP-0114 component on an XMPP server that joins its users to Sori users. Each
 * XMPP address is a bridged identity (`xmpp:juliet@example.org`) whose one device this gateway runs,
 * so the Sori side of every chat stays MLS; the leg between this gateway and XMPP is not end-to-end
 * encrypted, and Sori clients say so for bridged identities.
 */
export async function startXmppGateway(o: XmppGatewayOptions): Promise<XmppGateway> {
  const { client: gateway, domain, log } = o;
  const ownDomain = domain.toLowerCase();
  const stats = { toSori: 0, toXmpp: 0, dropped: 0 };
  const perSecond = o.messagesPerSecond ?? 10;
  const rate = new TokenBuckets(6 * perSecond, perSecond);
  const seen = new Map<string, Set<string>>();
  const users = new Map<string, { exists: boolean; until: number }>();
  /** Sori message id → the stanza to acknowledge once the Sori person's device processed it. */
  const receipts = new Map<string, { from: string; to: string; of: string }>();
  /** One chain per XMPP address, so its messages reach Sori in the order they were sent. */
  const chains = new Map<string, Promise<void>>();
  const flushing = new Map<string, Promise<void>>();
  let stopping = false;

  const component = xmppComponent({ service: o.service, domain, password: o.secret });
  let markOnline: () => void = () => undefined;
  const onlineOnce = new Promise<void>((resolve) => (markOnline = resolve));

  const identities = new BridgedIdentities({
    gateway,
    dir: o.dataDir,
    log,
    attach: (username, client) => {
      client.on("message", () => void flush(username, client));
      client.on("message-status", (s) => {
        const r = receipts.get(s.id);
        if (!r || s.status !== "delivered") return;
        receipts.delete(s.id);
        void send(receiptStanza(r.to, r.from, r.of));
      });
    },
  });

  const send = async (stanza: XmlElement): Promise<boolean> => {
    if (component.status !== "online") return false;
    try {
      await component.send(stanza);
      return true;
    } catch {
      return false;
    }
  };

  /** Whether a Sori username exists (cached): unknown ones get the same silence as known ones. */
  const userExists = async (username: string): Promise<boolean> => {
    const known = users.get(username);
    if (known && known.until > Date.now()) return known.exists;
    const exists = (await gateway.findUser(username)) !== undefined;
    users.set(username, { exists, until: Date.now() + USER_TTL_MS });
    return exists;
  };

  const duplicate = (from: BareJid, id: string | undefined): boolean => {
    if (!id) return false;
    const key = jidText(from);
    const ids = seen.get(key) ?? new Set<string>();
    seen.set(key, ids);
    if (ids.has(id)) return true;
    ids.add(id);
    if (ids.size > SEEN_PER_ADDRESS) ids.delete(ids.values().next().value!);
    return false;
  };

  /** An XMPP user's message to a Sori user, sent by the identity that stands for them. */
  const toSori = async (s: Extract<InboundStanza, { kind: "chat" }>): Promise<void> => {
    const username = soriUsernameAt(s.to, ownDomain);
    const original = replyTo(s);
    if (!username || !(await userExists(username))) {
      stats.dropped++;
      return;
    }
    const identity = await identities.ensure(bridgedUsernameOf(s.from));
    try {
      const sent = await identity.sendText(username, s.body);
      stats.toSori++;
      if (s.wantsReceipt && s.id) receipts.set(sent.id, { from: jidText(s.from), to: original.to, of: s.id });
    } catch (error) {
      const why = error instanceof SdkError ? error.message : "the gateway could not pass it on";
      log.warn("xmpp.to_sori_failed", { reason: error instanceof SdkError ? error.code : "error" });
      await send(messageError(original, "wait", "recipient-unavailable", `not delivered to Sori: ${why}`));
    }
  };

  const onMessage = (stanza: XmlElement): void => {
    const s = parseMessageStanza(stanza);
    if (s.kind === "ignored") {
      stats.dropped++;
      return;
    }
    if (s.kind === "omemo") {
      stats.dropped++;
      void send(messageError(replyTo(s), "modify", "not-acceptable", OMEMO_REFUSAL));
      return;
    }
    if (s.kind !== "chat") return;
    if (duplicate(s.from, s.id)) {
      stats.dropped++;
      return;
    }
    const wait = rate.take(jidText(s.from));
    if (wait > 0) {
      stats.dropped++;
      void send(
        messageError(
          replyTo(s),
          "wait",
          "resource-constraint",
          `too many messages: not delivered, try again in ${wait} s`,
        ),
      );
      return;
    }
    const key = jidText(s.from);
    const next = (chains.get(key) ?? Promise.resolve()).then(() =>
      toSori(s).catch((error: unknown) => {
        log.warn("xmpp.inbound_failed", { reason: error instanceof SdkError ? error.code : "error" });
      }),
    );
    chains.set(key, next);
    void next.finally(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
  };

  /**
   * Passes what Sori users sent an identity on to its XMPP address. They stay in the identity's
   * feed until the XMPP server answered a ping sent after them: it handles a stream's stanzas in
   * order, so by then it took the messages; a crash or disconnect before that sends them again.
   */
  const flush = (username: string, client: SoriClient): Promise<void> => {
    const running = flushing.get(username);
    if (running) return running.then(() => flush(username, client));
    const run = flushOnce(username, client).finally(() => flushing.delete(username));
    flushing.set(username, run);
    return run;
  };

  const flushOnce = async (username: string, client: SoriClient): Promise<void> => {
    const jid = jidOfBridged(username);
    if (!jid || component.status !== "online" || stopping) return;
    const list = await client.peekReceived();
    if (list.length === 0) return;
    const passed: ChatMessage[] = [];
    for (const m of list) {
      const body = bodyOf(m);
      const chat = await client.findChat(m.chat);
      if (body === undefined || chat?.kind !== "direct") {
        passed.push(m);
        continue;
      }
      if (!(await send(chatStanza(`${m.from.toLowerCase()}@${ownDomain}`, jidText(jid), m.id, body)))) break;
      passed.push(m);
      stats.toXmpp++;
    }
    const ping = xml(
      "iq",
      { type: "get", to: jid.domain, from: ownDomain },
      xml("ping", { xmlns: "urn:xmpp:ping" }),
    );
    try {
      await component.iqCaller.request(ping, BARRIER_TIMEOUT_MS);
    } catch (error) {
      // An error answer is an answer: the server processed what came before it. Only silence is not.
      if (!(error instanceof Error && error.name === "StanzaError")) return;
    }
    await client.confirmReceived(passed);
  };

  component.on("stanza", (stanza) => {
    if (stanza.is("message")) onMessage(stanza);
  });
  component.on("online", () => {
    log.info("xmpp.online", { domain: ownDomain });
    markOnline();
    for (const [username, client] of identities.all()) void flush(username, client);
  });
  component.on("offline", () => log.info("xmpp.offline", {}));
  component.on("error", (error) => log.warn("xmpp.stream_error", { reason: error.name }));

  gateway.on("bridge-wanted", (r) => {
    if (!jidOfBridged(r.username)) return;
    void identities.ensure(r.username).catch((error: unknown) => {
      log.warn("xmpp.identity_failed", { reason: error instanceof SdkError ? error.code : "error" });
    });
  });

  await identities.load();
  await component.start().catch((error: unknown) => {
    // The reconnect module keeps trying with backoff; the gateway runs meanwhile.
    log.warn("xmpp.connect_failed", { reason: error instanceof Error ? error.message : "error" });
  });

  return {
    online: () => onlineOnce,
    stats: () => ({ online: component.status === "online", identities: identities.all().length, ...stats }),
    stop: async () => {
      stopping = true;
      component.reconnect.stop();
      await component.stop().catch(() => undefined);
      await Promise.allSettled([...chains.values(), ...flushing.values()]);
      await identities.close();
    },
  };
}

/**
 * Where an answer to a stanza goes: errors to the full address it came from, since servers drop an
 * error sent to a bare JID (RFC 6121 §8.5.2.1.1).
 */
function replyTo(s: { fromFull: string; to: BareJid; id: string | undefined }): {
  from: string;
  to: string;
  id: string | undefined;
} {
  return { from: s.fromFull, to: jidText(s.to), id: s.id };
}

/** What an XMPP client shows of a Sori message (its text; a word for what XMPP has no form for). */
function bodyOf(m: ChatMessage): string | undefined {
  if (m.deleted) return undefined;
  switch (m.kind) {
    case "text":
      return m.text;
    case "sticker":
      return "[sticker]";
    case "file":
      return m.text ? `[file: ${m.file.name}] ${m.text}` : `[file: ${m.file.name}]`;
    default:
      return undefined;
  }
}
