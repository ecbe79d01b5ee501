import { SdkError } from "@sori/sdk";
import { TokenBuckets } from "@sori/server";
import type { FeaturesIn } from "./features-in.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { type BareJid, bridgedUsernameOf, jidText, soriUsernameAt } from "./jid.ts";
import { type InboundStanza, messageError, receiptStanza } from "./stanzas.ts";

/** Stanza ids remembered per address, to drop a resent duplicate. */
const SEEN_PER_ADDRESS = 500;
/** How long a Sori user's existence is taken as known before asking the directory again. */
const USER_TTL_MS = 60_000;
const OMEMO_REFUSAL = "this contact uses Sori's gateway, which cannot read OMEMO: send without encryption";

type ChatStanza = Extract<InboundStanza, { kind: "chat" }>;

/**
 * XMPP → Sori: each XMPP user's messages, sent by the bridged identity that stands for them, one at a
 * time per address (so they arrive in order), rate-limited, duplicates dropped; receipts go back once
 * the Sori person's device processed a message.
 */
export class Inbound {
  readonly #ctx: GatewayContext;
  readonly #features: FeaturesIn;
  readonly #rate: TokenBuckets;
  readonly #seen = new Map<string, Set<string>>();
  readonly #users = new Map<string, { exists: boolean; until: number }>();
  /** Sori message id → the stanza to acknowledge once the Sori person's device processed it. */
  readonly #receipts = new Map<string, { from: string; to: string; of: string }>();
  /** One chain per XMPP address, so its messages reach Sori in the order they were sent. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(ctx: GatewayContext, messagesPerSecond: number, features: FeaturesIn) {
    this.#ctx = ctx;
    this.#features = features;
    this.#rate = new TokenBuckets(6 * messagesPerSecond, messagesPerSecond);
  }

  /** A parsed `<message/>` from the XMPP network. */
  handle(s: InboundStanza): void {
    const { counters } = this.#ctx;
    if (s.kind === "ignored") {
      counters.dropped++;
      return;
    }
    if (s.kind === "omemo") {
      counters.dropped++;
      void this.#ctx.send(messageError(replyTo(s), "modify", "not-acceptable", OMEMO_REFUSAL));
      return;
    }
    if (s.kind === "receipt" || s.kind === "bounce") return;
    if (this.#duplicate(s.from, s.id)) {
      counters.dropped++;
      return;
    }
    const wait = this.#rate.take(jidText(s.from));
    if (wait > 0) {
      counters.dropped++;
      // Typing and markers over the rate are dropped without a word: an error for each is noise.
      if (s.kind === "chat-state" || s.kind === "displayed") return;
      const text = `too many messages: not delivered, try again in ${wait} s`;
      void this.#ctx.send(messageError(replyTo(s), "wait", "resource-constraint", text));
      return;
    }
    this.#inOrder(jidText(s.from), () => (s.kind === "chat" ? this.#toSori(s) : this.#features.apply(s)));
  }

  /** An identity's message changed status: a delivered one sends the XMPP receipt asked for. */
  statusChanged(messageId: string, status: string): void {
    const r = this.#receipts.get(messageId);
    if (!r || status !== "delivered") return;
    this.#receipts.delete(messageId);
    void this.#ctx.send(receiptStanza(r.to, r.from, r.of));
  }

  /** Resolves once every message taken so far was handed to Sori (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }

  #inOrder(key: string, run: () => Promise<void>): void {
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(() =>
      run().catch((error: unknown) => {
        this.#ctx.log.warn("xmpp.inbound_failed", { reason: codeOf(error) });
      }),
    );
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  async #toSori(s: ChatStanza): Promise<void> {
    const ctx = this.#ctx;
    const username = soriUsernameAt(s.to, ctx.domain);
    if (!username || !(await this.#userExists(username))) {
      ctx.counters.dropped++;
      return;
    }
    const bridged = bridgedUsernameOf(s.from);
    try {
      // Inside the try: an identity that cannot be opened or made is an error for the sender too.
      const identity = await ctx.identities.ensure(bridged);
      const sent = await this.#features.sendText(identity, bridged, username, s);
      ctx.counters.toSori++;
      if (s.wantsReceipt && s.id)
        this.#receipts.set(sent.id, { from: jidText(s.from), to: jidText(s.to), of: s.id });
    } catch (error) {
      const why = error instanceof SdkError ? error.message : "the gateway could not pass it on";
      ctx.log.warn("xmpp.to_sori_failed", { reason: codeOf(error) });
      await ctx.send(
        messageError(replyTo(s), "wait", "recipient-unavailable", `not delivered to Sori: ${why}`),
      );
    }
  }

  /** Whether a Sori username exists (cached): unknown ones get the same silence as known ones. */
  async #userExists(username: string): Promise<boolean> {
    const known = this.#users.get(username);
    if (known && known.until > Date.now()) return known.exists;
    const exists = (await this.#ctx.gateway.findUser(username)) !== undefined;
    this.#users.set(username, { exists, until: Date.now() + USER_TTL_MS });
    return exists;
  }

  #duplicate(from: BareJid, id: string | undefined): boolean {
    if (!id) return false;
    const key = jidText(from);
    const ids = this.#seen.get(key) ?? new Set<string>();
    this.#seen.set(key, ids);
    if (ids.has(id)) return true;
    ids.add(id);
    if (ids.size > SEEN_PER_ADDRESS) ids.delete(ids.values().next().value!);
    return false;
  }
}

/**
 * Where an answer to a stanza goes: errors to the full address it came from, since servers drop an
 * error sent to a bare JID (RFC 6121 §8.5.2.1.1).
 */
export function replyTo(s: { fromFull: string; to: BareJid; id: string | undefined }): {
  from: string;
  to: string;
  id: string | undefined;
} {
  return { from: s.fromFull, to: jidText(s.to), id: s.id };
}

export function codeOf(error: unknown): string {
  return error instanceof SdkError ? error.code : error instanceof Error ? error.name : "error";
}
