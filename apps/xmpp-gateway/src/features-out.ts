import { createHash } from "node:crypto";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf } from "./inbound.ts";
import { type BareJid, jidOfBridged, jidText } from "./jid.ts";
import type { BridgedMessage, MessageIdMaps, MessageIds } from "./message-ids.ts";
import { fileCaptionId, oobParts } from "./oob.ts";
import { bodyOf } from "./outbound.ts";
import {
  chatStateStanza,
  correctionStanza,
  displayedStanza,
  outgoingParts,
  type Quote,
  reactionsStanza,
  retractionStanza,
} from "./stanza-features.ts";
import { chatStanza } from "./stanzas.ts";
import type { XmlElement } from "./xmpp-library.ts";

/** Sori apps forget a "typing" after this long without another: XMPP is then told "paused". */
const TYPING_STALE_MS = 6000;
/** Feature stanzas kept while the XMPP server is unreachable, sent when it is back; oldest dropped. */
const MAX_HELD = 1000;

type Typing = { chat: string; userId: string; username: string; typing: boolean };

/**
 * Sori → XMPP message features, from the SDK events of each bridged identity: a Sori user's edits,
 * deletions for everyone and reactions become corrections (XEP-0308), retractions (XEP-0424) and
 * reactions (XEP-0444) of what XMPP got; reading the XMPP user's messages becomes displayed markers
 * (XEP-0333, for messages that asked for them); typing becomes chat states (XEP-0085); and replies
 * carry XEP-0461 with the quote as an XEP-0428 fallback. Only for messages the gateway passed
 * between the two, in direct chats; what XMPP was told is recorded, so a change is sent once.
 */
export class FeaturesOut {
  readonly #ctx: GatewayContext;
  readonly #ids: MessageIdMaps;
  /** One chain per identity: its events are handled in the order they came. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Identity and chat → the timer that says "paused" if the Sori user's "typing" is not renewed. */
  readonly #typing = new Map<string, NodeJS.Timeout>();
  #held: XmlElement[] = [];
  #stopping = false;

  constructor(ctx: GatewayContext, ids: MessageIdMaps) {
    this.#ctx = ctx;
    this.#ids = ids;
  }

  /** The stanza that carries a Sori message to XMPP: chat markers, origin-id, its reply. */
  async messageStanza(
    username: string,
    client: SoriClient,
    m: ChatMessage,
    body: string,
  ): Promise<XmlElement> {
    const jid = jidOfBridged(username)!;
    const quote = m.replyTo && this.#quoteOf(m.replyTo, client, jid, await this.#ids.of(username));
    const parts = outgoingParts(m.id, body, quote);
    return chatStanza(this.#address(m.from), jidText(jid), m.id, parts.body, ...parts.extras);
  }

  /**
   * The stanzas that carry a Sori file message as a link (`url`, file-hosting.ts): the link alone as
   * the body with XEP-0066 out-of-band data, which Conversations, Gajim and Dino show as the file
   * itself (an image inline) only when the body is exactly the URL; then its caption, if any, as a
   * message of its own (a reply's quote goes with the caption, as a body with a fallback must).
   */
  async fileStanzas(
    username: string,
    client: SoriClient,
    m: ChatMessage,
    url: string,
  ): Promise<XmlElement[]> {
    const jid = jidOfBridged(username)!;
    const link = oobParts(url);
    const parts = outgoingParts(m.id, link.body);
    const stanzas = [
      chatStanza(this.#address(m.from), jidText(jid), m.id, link.body, ...parts.extras, ...link.extras),
    ];
    if (m.text) stanzas.push(await this.#captionStanza(username, client, m, m.text));
    return stanzas;
  }

  async #captionStanza(
    username: string,
    client: SoriClient,
    m: ChatMessage,
    text: string,
  ): Promise<XmlElement> {
    const jid = jidOfBridged(username)!;
    const id = fileCaptionId(m.id);
    const quote = m.replyTo && this.#quoteOf(m.replyTo, client, jid, await this.#ids.of(username));
    const parts = outgoingParts(id, text, quote);
    return chatStanza(this.#address(m.from), jidText(jid), id, parts.body, ...parts.extras);
  }

  /**
   * A Sori message went to XMPP (`body`: its text; for a file sent as a link, its caption): recorded,
   * so that its changes follow it (only then: a correction must not reach XMPP before the message it
   * corrects).
   */
  async passed(username: string, m: ChatMessage, body: string, asLink = false): Promise<void> {
    const ids = await this.#ids.of(username);
    const captionId = fileCaptionId(m.id);
    ids?.remember({
      sori: m.id,
      chat: m.chat,
      xmpp: asLink && body ? [m.id, captionId] : [m.id],
      by: "sori",
      textHash: hashOf(body),
      ...(asLink ? { link: body ? { captionId } : {} } : {}),
    });
    // The message said "active", which ended the Sori user's "composing" on the XMPP side.
    this.#endTyping(username, m.chat);
  }

  /** An identity's `message-updated`: a message changed (edited, deleted, reacted to, read). */
  updated(username: string, client: SoriClient, m: ChatMessage): void {
    this.#inOrder(username, () => this.#updated(username, client, m));
  }

  /** An identity's `typing`: the Sori user in a chat with it started or stopped typing. */
  typing(username: string, client: SoriClient, t: Typing): void {
    this.#inOrder(username, () => this.#typingChanged(username, client, t));
  }

  /** Sends what was held while the XMPP server was unreachable (after the component is back online). */
  resend(): void {
    this.#inOrder("", async () => {
      const held = this.#held;
      this.#held = [];
      for (const [i, stanza] of held.entries()) {
        if (!(await this.#ctx.send(stanza))) {
          this.#held = [...held.slice(i), ...this.#held].slice(-MAX_HELD);
          return;
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#typing.values()) clearTimeout(timer);
    this.#typing.clear();
    await Promise.allSettled([...this.#chains.values()]);
  }

  #inOrder(key: string, run: () => Promise<void>): void {
    if (this.#stopping) return;
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(() =>
      run().catch((error: unknown) => {
        this.#ctx.log.warn("xmpp.feature_out_failed", { reason: codeOf(error) });
      }),
    );
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  async #updated(username: string, client: SoriClient, m: ChatMessage): Promise<void> {
    const jid = jidOfBridged(username);
    const ids = jid && (await this.#ids.of(username));
    const known = ids && ids.bySori(m.id);
    // Only what went between the two sides; a message still waiting in the feed goes out as it is now.
    if (!jid || !ids || !known || known.chat !== m.chat) return;
    const peer = known.by === "sori" ? m.from : await peerOf(client, m.chat);
    if (!peer) return;
    const from = this.#address(peer);
    const to = jidText(jid);
    const of = known.xmpp[0] ?? known.sori;
    if (known.by === "sori") {
      if (m.deleted) {
        if (!known.retracted) {
          await this.#send(retractionStanza(from, to, of));
          if (known.link?.captionId) await this.#send(retractionStanza(from, to, known.link.captionId));
          ids.update(known.sori, { retracted: true });
        }
        return;
      }
      if (known.link) await this.#captionChanged(username, client, m, known, ids);
      else {
        const text = bodyOf(m);
        if (m.edited && text !== undefined && hashOf(text) !== known.textHash) {
          const quote = m.replyTo && this.#quoteOf(m.replyTo, client, jid, ids);
          await this.#send(correctionStanza(from, to, of, text, quote));
          ids.update(known.sori, { textHash: hashOf(text) });
        }
      }
    } else if (m.read && known.markable && !known.displayed) {
      await this.#send(displayedStanza(from, to, of));
      ids.update(known.sori, { displayed: true });
    }
    // The identity's own reactions are the XMPP user's, who knows them; the others' are news.
    const theirs = Object.entries(m.reactions ?? {})
      .filter(([, users]) => users.some((u) => u !== client.userId))
      .map(([emoji]) => emoji)
      .sort();
    if (theirs.join("\n") !== [...(known.soriReactions ?? [])].sort().join("\n")) {
      await this.#send(reactionsStanza(from, to, of, theirs));
      ids.update(known.sori, { soriReactions: theirs });
    }
  }

  /**
   * A file sent as a link had its caption edited: the caption's message is corrected (the link's
   * body is the URL, which a correction must not replace), or sent now if it had none.
   */
  async #captionChanged(
    username: string,
    client: SoriClient,
    m: ChatMessage,
    known: BridgedMessage,
    ids: MessageIds,
  ): Promise<void> {
    if (!m.edited || !m.text || hashOf(m.text) === known.textHash) return;
    const captionId = known.link?.captionId;
    if (captionId) {
      const jid = jidOfBridged(username)!;
      const quote = m.replyTo && this.#quoteOf(m.replyTo, client, jid, ids);
      await this.#send(correctionStanza(this.#address(m.from), jidText(jid), captionId, m.text, quote));
      ids.update(known.sori, { textHash: hashOf(m.text) });
      return;
    }
    await this.#send(await this.#captionStanza(username, client, m, m.text));
    const id = fileCaptionId(m.id);
    ids.update(known.sori, { textHash: hashOf(m.text), link: { captionId: id }, xmpp: [...known.xmpp, id] });
  }

  async #typingChanged(username: string, client: SoriClient, t: Typing): Promise<void> {
    const jid = jidOfBridged(username);
    if (!jid || (await client.findChat(t.chat))?.kind !== "direct") return;
    const key = `${username}\n${t.chat}`;
    const from = this.#address(t.username);
    const to = jidText(jid);
    const running = this.#typing.get(key);
    if (running) clearTimeout(running);
    if (!t.typing) {
      if (running) {
        this.#typing.delete(key);
        await this.#ctx.send(chatStateStanza(from, to, "paused"));
      }
      return;
    }
    // "typing" comes again every 3 s while it lasts: XMPP hears "composing" once.
    if (!running) await this.#ctx.send(chatStateStanza(from, to, "composing"));
    if (this.#stopping) return;
    const timer = setTimeout(() => {
      this.#typing.delete(key);
      void this.#ctx.send(chatStateStanza(from, to, "paused"));
    }, TYPING_STALE_MS);
    timer.unref();
    this.#typing.set(key, timer);
  }

  #endTyping(username: string, chat: string): void {
    const key = `${username}\n${chat}`;
    const timer = this.#typing.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#typing.delete(key);
  }

  /** The XEP-0461 quote of a reply: the XMPP id of the message it answers, and whose it is. */
  #quoteOf(
    replyTo: NonNullable<ChatMessage["replyTo"]>,
    client: SoriClient,
    jid: BareJid,
    ids: MessageIds | undefined,
  ): Quote {
    const known = ids?.bySori(replyTo.id);
    return {
      author: replyTo.fromUserId === client.userId ? jidText(jid) : this.#address(replyTo.from),
      // A Sori message XMPP got has its Sori id as its XMPP id.
      of: known?.xmpp[0] ?? replyTo.id,
      text: replyTo.text,
    };
  }

  /** A Sori user's address on the XMPP network. */
  #address(username: string): string {
    return `${username.toLowerCase()}@${this.#ctx.domain}`;
  }

  /** Sends a feature stanza; held for later if the XMPP server cannot take it now. */
  async #send(stanza: XmlElement): Promise<void> {
    if (await this.#ctx.send(stanza)) return;
    this.#held.push(stanza);
    if (this.#held.length > MAX_HELD) this.#held.shift();
  }
}

/** The other member of a direct chat (the Sori user), by username. */
async function peerOf(client: SoriClient, chat: string): Promise<string | undefined> {
  const summary = await client.findChat(chat);
  const me = client.username.toLowerCase();
  return summary?.members.find((u) => u.toLowerCase() !== me);
}

/** Enough of a text to tell a change, without keeping the text. */
function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
