import { type ChatMessage, type ChatSummary, SdkError, type SoriClient } from "@sori/sdk";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf, replyTo } from "./inbound.ts";
import { bridgedUsernameOf, soriUsernameAt } from "./jid.ts";
import type { BridgedMessage, MessageIdMaps, MessageIds } from "./message-ids.ts";
import type { ChatState, FeatureStanza } from "./stanza-features.ts";
import { type Addressed, type InboundStanza, messageError } from "./stanzas.ts";

type ChatStanza = Extract<InboundStanza, { kind: "chat" }>;
/** What sendText needs of a chat stanza (Inbound gives it from the delivery journal's entry). */
export type ChatText = Pick<ChatStanza, "body" | "id" | "markable" | "originId" | "reply">;
/** A feature stanza from the XMPP network, with its addresses. */
export type FeatureIn = Addressed & FeatureStanza;

/**
 * While the XMPP user is composing, "typing" is said to Sori again this often: Sori apps forget a
 * "typing" after 6 s without one, and the SDK sends one at most every 3 s.
 */
const TYPING_REFRESH_MS = 4000;
/** A "composing" with no news lasts this long (XEP-0085 has clients pause after about 30 s). */
const COMPOSING_MAX_MS = 30_000;

type Refused = { type: "cancel" | "modify" | "wait"; condition: string; text: string };
const NO_SUCH_MESSAGE: Refused = {
  type: "cancel",
  condition: "item-not-found",
  text: "no such message in this chat",
};
const NOT_THE_AUTHOR: Refused = {
  type: "cancel",
  condition: "forbidden",
  text: "only the author of a message may correct or retract it",
};

/**
 * XMPP → Sori message features, done by the bridged identity in its direct chat with the Sori user:
 * replies (XEP-0461) are sent quoting the Sori message, corrections (XEP-0308) and retractions
 * (XEP-0424) of the XMPP user's own messages become edits and deletions for everyone, reactions
 * (XEP-0444) are toggled to the set the XMPP user has, a displayed marker (XEP-0333) marks the chat
 * read up to that message, and chat states (XEP-0085) become typing. Stanzas naming a message the
 * gateway does not know, or someone else's, get an XMPP error; markers and chat states get nothing.
 */
export class FeaturesIn {
  readonly #ctx: GatewayContext;
  readonly #ids: MessageIdMaps;
  /** Identity and chat → the refresh of a "composing" the XMPP user is in. */
  readonly #typing = new Map<string, { timer: NodeJS.Timeout; until: number }>();
  #stopped = false;

  constructor(ctx: GatewayContext, ids: MessageIdMaps) {
    this.#ctx = ctx;
    this.#ids = ids;
  }

  /**
   * Sends an XMPP chat message's text to Sori user `to` as the identity `bridged`: as a reply when it
   * quotes a message of their chat the gateway knows (else the whole body, quote included, as text).
   * Remembers its XMPP ids for what may name it later.
   */
  async sendText(
    identity: SoriClient,
    bridged: string,
    to: string,
    s: ChatText,
    options: { id?: string } = {},
  ): Promise<ChatMessage> {
    const ids = await this.#ids.of(bridged);
    const quoted = s.reply && ids?.byXmpp(s.reply.of);
    const chat = quoted ? await identity.findChat(to) : undefined;
    let sent: ChatMessage | undefined;
    if (s.reply && quoted && chat && quoted.chat === chat.id) {
      try {
        sent = await identity.sendText(to, s.reply.text, { replyTo: quoted.sori, ...options });
      } catch (error) {
        // The quoted message was deleted meanwhile: the text still goes, with its quote as text.
        if (!(error instanceof SdkError && error.code === "not-found")) throw error;
      }
    }
    sent ??= await identity.sendText(to, s.body, options);
    await this.sent(bridged, sent, s);
    return sent;
  }

  /**
   * A message of the XMPP user reached Sori (a text, or a file: files-in.ts): it ends "composing", and
   * its XMPP ids are remembered for what may name it later.
   */
  async sent(
    bridged: string,
    sent: ChatMessage,
    s: Pick<ChatText, "id" | "originId" | "markable">,
  ): Promise<void> {
    // A message ends "composing" (Sori apps stop showing "typing" when one arrives).
    this.#endTyping(bridged, sent.chat);
    const ids = await this.#ids.of(bridged);
    const xmpp = [s.id, s.originId].filter((x): x is string => x !== undefined);
    if (ids && xmpp.length > 0)
      ids.remember({
        sori: sent.id,
        chat: sent.chat,
        xmpp,
        by: "xmpp",
        ...(s.markable ? { markable: true } : {}),
      });
  }

  /** A feature stanza, in order with the sender's messages (Inbound runs it on their chain). */
  async apply(s: FeatureIn): Promise<void> {
    const silent = s.kind === "chat-state" || s.kind === "displayed";
    const to = soriUsernameAt(s.to, this.#ctx.domain);
    const bridged = bridgedUsernameOf(s.from);
    // Never makes an identity or a chat: a feature only ever applies to a conversation that exists.
    const identity = to === undefined ? undefined : this.#ctx.identities.get(bridged);
    const chat = identity && to !== undefined ? await identity.findChat(to) : undefined;
    const ids = identity ? await this.#ids.of(bridged) : undefined;
    if (!identity || !chat || chat.kind !== "direct" || !ids) {
      if (!silent) await this.#refuse(s, NO_SUCH_MESSAGE);
      return;
    }
    try {
      const refused = await this.#apply(s, identity, bridged, chat, ids);
      if (refused && !silent) await this.#refuse(s, refused);
    } catch (error) {
      this.#ctx.log.warn("xmpp.feature_failed", { kind: s.kind, reason: codeOf(error) });
      if (!silent) await this.#refuse(s, refusalOf(error));
    }
  }

  /** Stops the typing refreshes. */
  stop(): void {
    this.#stopped = true;
    for (const { timer } of this.#typing.values()) clearInterval(timer);
    this.#typing.clear();
  }

  async #apply(
    s: FeatureIn,
    identity: SoriClient,
    bridged: string,
    chat: ChatSummary,
    ids: MessageIds,
  ): Promise<Refused | undefined> {
    if (s.kind === "chat-state") {
      await this.#chatState(identity, bridged, chat.id, s.state);
      return undefined;
    }
    const m = ids.byXmpp(s.of);
    if (!m || m.chat !== chat.id) return s.kind === "displayed" ? undefined : NO_SUCH_MESSAGE;
    switch (s.kind) {
      case "displayed":
        // Only the Sori user's messages have a read state to give; a marker for one's own is noise.
        if (m.by === "sori") await identity.markRead(chat.id, { upTo: m.sori });
        return undefined;
      case "correction":
        if (m.by !== "xmpp") return NOT_THE_AUTHOR;
        await identity.editMessage(chat.id, m.sori, s.body);
        // Clients name later corrections by the original's id or by this one's: both find it.
        if (s.id) ids.update(m.sori, { xmpp: [s.id] });
        return undefined;
      case "retraction":
        if (m.by !== "xmpp") return NOT_THE_AUTHOR;
        await identity.deleteForEveryone(chat.id, m.sori);
        return undefined;
      case "reactions":
        await this.#react(identity, chat.id, m, s.emojis, ids);
        return undefined;
    }
  }

  /**
   * Makes the identity's reactions to `m` the XMPP user's set. react() toggles, and says what it
   * left: toggled again where the Sori side was not as last recorded.
   */
  async #react(
    identity: SoriClient,
    chat: string,
    m: BridgedMessage,
    emojis: string[],
    ids: MessageIds,
  ): Promise<void> {
    const before = new Set(m.xmppReactions ?? []);
    const after = new Set(emojis);
    const applied = [...before].filter((e) => after.has(e));
    for (const e of [...after].filter((x) => !before.has(x))) {
      if (!(await react(identity, chat, m.sori, e, true))) continue;
      applied.push(e);
    }
    for (const e of [...before].filter((x) => !after.has(x))) {
      if (!(await react(identity, chat, m.sori, e, false))) applied.push(e);
    }
    ids.update(m.sori, { xmppReactions: applied });
  }

  async #chatState(identity: SoriClient, bridged: string, chat: string, state: ChatState): Promise<void> {
    const key = `${bridged}\n${chat}`;
    if (state !== "composing") {
      if (this.#endTyping(bridged, chat)) await identity.setTyping(chat, false);
      return;
    }
    const running = this.#typing.get(key);
    if (running) {
      running.until = Date.now() + COMPOSING_MAX_MS;
      return;
    }
    await identity.setTyping(chat, true);
    if (this.#stopped) return;
    const entry = {
      until: Date.now() + COMPOSING_MAX_MS,
      timer: setInterval(() => {
        const done = Date.now() >= entry.until;
        if (done) this.#endTyping(bridged, chat);
        identity.setTyping(chat, !done).catch((error: unknown) => {
          this.#ctx.log.warn("xmpp.typing_failed", { reason: codeOf(error) });
        });
      }, TYPING_REFRESH_MS),
    };
    entry.timer.unref();
    this.#typing.set(key, entry);
  }

  /** Forgets a "composing"; whether there was one. */
  #endTyping(bridged: string, chat: string): boolean {
    const key = `${bridged}\n${chat}`;
    const entry = this.#typing.get(key);
    if (!entry) return false;
    clearInterval(entry.timer);
    this.#typing.delete(key);
    return true;
  }

  async #refuse(s: FeatureIn, r: Refused): Promise<void> {
    this.#ctx.counters.dropped++;
    await this.#ctx.send(messageError(replyTo(s), r.type, r.condition, r.text));
  }
}

/**
 * Toggles `emoji` until it is `on` (react() says what it left; at most twice). False if the SDK
 * refuses the emoji or the message: that reaction is skipped, the others still apply.
 */
async function react(
  identity: SoriClient,
  chat: string,
  id: string,
  emoji: string,
  on: boolean,
): Promise<boolean> {
  try {
    if ((await identity.react(chat, id, emoji)) !== on) await identity.react(chat, id, emoji);
    return true;
  } catch (error) {
    if (error instanceof SdkError && error.code === "bad-request") return false;
    throw error;
  }
}

function refusalOf(error: unknown): Refused {
  if (error instanceof SdkError) {
    if (error.code === "not-found" || error.code === "unknown-chat") return NO_SUCH_MESSAGE;
    if (error.code === "bad-request" || error.code === "too-large")
      return { type: "modify", condition: "not-acceptable", text: error.message };
  }
  return { type: "wait", condition: "recipient-unavailable", text: "not applied on Sori: try again later" };
}
