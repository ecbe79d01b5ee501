import { MAX_TEXT_CHARS, newMessageId, SdkError } from "@sori/sdk";
import { TokenBuckets } from "@sori/server";
import type { TakenStanza, WantedReceipt } from "./delivery-journal.ts";
import type { FeaturesIn } from "./features-in.ts";
import type { FilesIn } from "./files-in.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { type BareJid, bridgedUsernameOf, jidText, parseJid, soriUsernameAt } from "./jid.ts";
import { type InboundStanza, messageError, receiptStanza } from "./stanzas.ts";

/** Feature stanza ids remembered per address, to drop a resent duplicate. */
const SEEN_FEATURES_PER_ADDRESS = 500;
/** How long a Sori user's existence is taken as known before asking the directory again. */
const USER_TTL_MS = 60_000;
/** What an OMEMO-encrypted message (or OMEMO media, in a chat or a room) gets back. */
export const OMEMO_REFUSAL =
  "this contact uses Sori's gateway, which cannot read OMEMO: send without encryption";
const TOO_LONG = `message too long: Sori takes at most ${MAX_TEXT_CHARS.toLocaleString("en")} characters`;

/**
 * XMPP → Sori: each XMPP user's messages, sent by the bridged identity that stands for them, one at a
 * time per address (so they arrive in order), rate-limited, duplicates dropped; receipts go back once
 * the Sori person's device processed a message. Each message is in the journal from the moment it is
 * parsed, under the Sori message id it will have, until the SDK holds it (decision 16, "Exactly once").
 */
export class Inbound {
  readonly #ctx: GatewayContext;
  readonly #features: FeaturesIn;
  readonly #files: FilesIn;
  readonly #rate: TokenBuckets;
  readonly #seenFeatures = new Map<string, Set<string>>();
  readonly #users = new Map<string, { exists: boolean; until: number }>();
  /** One chain per XMPP address, so its messages reach Sori in the order they were sent. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Messages whose "delivered" came before their send returned (a fast recipient). */
  readonly #deliveredEarly = new Set<string>();
  /** Taken messages on a chain now (so that recover() does not queue one twice). */
  readonly #queued = new Set<string>();
  #stopping = false;

  constructor(ctx: GatewayContext, messagesPerSecond: number, features: FeaturesIn, files: FilesIn) {
    this.#ctx = ctx;
    this.#features = features;
    this.#files = files;
    this.#rate = new TokenBuckets(6 * messagesPerSecond, messagesPerSecond);
  }

  /**
   * After a start: what a previous run took and did not see held by the SDK goes on (requeue), and
   * receipts whose message was delivered while no one could send them are found (the status is kept
   * by the SDK, but its event came, or was about to, when the process died).
   */
  async recover(): Promise<void> {
    const { journal, identities } = this.#ctx;
    this.requeue();
    for (const [messageId, r] of journal.waitingReceipts()) {
      const from = parseJid(r.from);
      const client = from && identities.get(bridgedUsernameOf(from));
      const m = await client?.message(r.chat, messageId).catch(() => undefined);
      if (m?.status === "delivered") journal.receiptDue(messageId);
    }
  }

  /**
   * Queues, in order and before new stanzas, what was taken and is not held by the SDK nor on its way:
   * after a start, and when the component is back (for those that failed while nobody could be told).
   */
  requeue(): void {
    for (const t of this.#ctx.journal.taken()) if (!this.#queued.has(t.messageId)) this.#queue(t);
  }

  /** A parsed `<message/>` from the XMPP network. */
  handle(s: InboundStanza): void {
    const { counters, journal } = this.#ctx;
    if (s.kind === "ignored") {
      counters.dropped++;
      return;
    }
    if (s.kind === "omemo" || s.kind === "too-long") {
      counters.dropped++;
      const text = s.kind === "omemo" ? OMEMO_REFUSAL : TOO_LONG;
      void this.#ctx.send(messageError(replyTo(s), "modify", "not-acceptable", text));
      return;
    }
    const from = jidText(s.from);
    // Chats are remembered by the journal (across a crash); feature stanzas only in memory.
    if (
      s.id &&
      (journal.isDuplicate(from, s.id) || (s.kind !== "chat" && this.#featureDuplicate(from, s.id)))
    ) {
      counters.dropped++;
      return;
    }
    const wait = this.#rate.take(from);
    // Neither is answered, not even over the rate: an error never with an error (RFC 6120 §8.3.1).
    if (s.kind === "bounce" || s.kind === "receipt") {
      if (wait > 0) counters.dropped++;
      // Outside the sender's chain: an answer refers to a message sent long before, not to what the
      // sender says next, and a stop must not wait for one whose receipt cannot reach Sori now.
      else
        void this.#answered(s).catch((error: unknown) => {
          this.#ctx.log.warn("xmpp.answer_failed", { reason: codeOf(error) });
        });
      return;
    }
    if (wait > 0) {
      counters.dropped++;
      // Typing and markers over the rate are dropped without a word: an error for each is noise.
      if (s.kind === "chat-state" || s.kind === "displayed") return;
      const text = `too many messages: not delivered, try again in ${wait} s`;
      void this.#ctx.send(messageError(replyTo(s), "wait", "resource-constraint", text));
      return;
    }
    if (s.kind !== "chat") {
      // Not journaled: a feature stanza is applied once, in order with the sender's messages.
      this.#inOrder(from, () => this.#features.apply(s));
      return;
    }
    const taken: TakenStanza = {
      messageId: newMessageId(),
      from,
      fromFull: s.fromFull,
      to: jidText(s.to),
      stanzaId: s.id,
      body: s.body,
      wantsReceipt: s.wantsReceipt,
      markable: s.markable,
      ...(s.originId !== undefined ? { originId: s.originId } : {}),
      ...(s.reply !== undefined ? { reply: s.reply } : {}),
      ...(s.file !== undefined ? { file: s.file } : {}),
    };
    if (!journal.take(taken)) {
      counters.dropped++;
      const text = "the gateway is busy: not delivered, try again later";
      void this.#ctx.send(messageError(replyTo(s), "wait", "resource-constraint", text));
      return;
    }
    this.#queue(taken);
  }

  #queue(t: TakenStanza): void {
    this.#queued.add(t.messageId);
    this.#inOrder(t.from, () => this.#toSori(t).finally(() => this.#queued.delete(t.messageId)));
  }

  /**
   * The XMPP side answered a message the gateway passed on: its client's receipt (XEP-0184) makes it
   * "delivered" for the Sori sender (the identity confirms it), an error "not delivered" with the
   * reason (SDK reportUndelivered). Answers to anything else the gateway sent (receipts, typing) and
   * for identities it does not run are let be.
   */
  async #answered(s: Extract<InboundStanza, { kind: "bounce" | "receipt" }>): Promise<void> {
    const ctx = this.#ctx;
    // A receipt names the message it confirms; an error carries the id of the stanza it answers.
    const messageId = s.kind === "receipt" ? s.of : s.id;
    const identity = messageId && ctx.identities.get(bridgedUsernameOf(s.from));
    const username = soriUsernameAt(s.to, ctx.domain);
    if (!identity || !username) return;
    const chat = await identity.findChat(username);
    if (chat?.kind !== "direct" || !(await identity.message(chat.id, messageId))) return;
    if (s.kind === "receipt") {
      await identity.confirmDelivered(chat.id, [messageId]);
      return;
    }
    await identity.reportUndelivered(chat.id, [messageId], s.reason);
    ctx.log.info("xmpp.bounced", { condition: s.condition });
  }

  /** An identity's message changed status: a delivered one sends the XMPP receipt asked for. */
  statusChanged(messageId: string, status: string): void {
    if (status !== "delivered") return;
    const r = this.#ctx.journal.receiptFor(messageId);
    if (r) this.#sendReceipt(messageId, r);
    else if (this.#ctx.journal.isTaken(messageId)) this.#deliveredEarly.add(messageId);
  }

  /** Resolves once every message taken so far was handed to Sori (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }

  /** What is still on its way to Sori stays in the journal for the next run. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.settled();
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

  async #toSori(t: TakenStanza): Promise<void> {
    // Stopping: what has not started yet stays in the journal for the next run, so that a stop
    // waits only for the messages already on their way, not for a backlog of identities to make.
    if (this.#stopping) return;
    const ctx = this.#ctx;
    const to = parseJid(t.to);
    const from = parseJid(t.from);
    const username = to && soriUsernameAt(to, ctx.domain);
    let receipt: WantedReceipt | undefined;
    let delivered = false;
    try {
      if (!username || !from || !(await this.#userExists(username))) {
        ctx.counters.dropped++;
      } else {
        const bridged = bridgedUsernameOf(from);
        // Inside the try: an identity that cannot be opened or made is an error for the sender too.
        const identity = await ctx.identities.ensure(bridged);
        const text = {
          body: t.body,
          id: t.stanzaId,
          markable: t.markable ?? false,
          ...(t.originId !== undefined ? { originId: t.originId } : {}),
          ...(t.reply !== undefined ? { reply: t.reply } : {}),
        };
        // Under the id chosen when it was taken: after a crash the SDK knows it and sends nothing twice.
        const sent = t.file
          ? await this.#files.send(identity, bridged, username, { ...text, file: t.file }, t.messageId)
          : await this.#features.sendText(identity, bridged, username, text, { id: t.messageId });
        ctx.counters.toSori++;
        delivered = sent.status === "delivered" || this.#deliveredEarly.has(t.messageId);
        if (t.wantsReceipt && t.stanzaId)
          receipt = { from: t.from, to: t.to, of: t.stanzaId, chat: sent.chat };
      }
    } catch (error) {
      // Stopping: kept in the journal, the next run hands it on.
      if (this.#stopping) return;
      const why = error instanceof SdkError ? error.message : "the gateway could not pass it on";
      ctx.log.warn("xmpp.to_sori_failed", { reason: codeOf(error) });
      const told = await ctx.send(
        messageError(
          { from: t.fromFull, to: t.to, id: t.stanzaId },
          "wait",
          "recipient-unavailable",
          `not delivered to Sori: ${why}`,
        ),
      );
      // Nobody to tell (the component is offline, as after a restart): tried again once it is back.
      if (!told) return;
    }
    this.#deliveredEarly.delete(t.messageId);
    ctx.journal.handed(t.messageId, receipt);
    if (receipt && delivered) this.#sendReceipt(t.messageId, receipt);
  }

  /** Receipts that came due while the component was offline (this run or the last), now it is back. */
  sendDueReceipts(): void {
    for (const [messageId, r] of this.#ctx.journal.dueReceipts()) this.#sendReceipt(messageId, r);
  }

  #sendReceipt(messageId: string, r: WantedReceipt): void {
    const { journal } = this.#ctx;
    // Noted sent the moment the kernel has it (a restart would otherwise send it again); one that
    // cannot go now is kept until the component is back, since the status event comes only once.
    void this.#ctx
      .sendTracked(receiptStanza(r.to, r.from, r.of), () => journal.receiptSent(messageId))
      .then((sent) => {
        if (!sent) journal.receiptDue(messageId);
      });
  }

  /** Whether a Sori username exists (cached): unknown ones get the same silence as known ones. */
  /** Feature stanzas seen per address (in memory: they are not journaled), to drop a resent duplicate. */
  #featureDuplicate(from: string, id: string): boolean {
    const ids = this.#seenFeatures.get(from) ?? new Set<string>();
    this.#seenFeatures.set(from, ids);
    if (ids.has(id)) return true;
    ids.add(id);
    if (ids.size > SEEN_FEATURES_PER_ADDRESS) ids.delete(ids.values().next().value!);
    return false;
  }

  async #userExists(username: string): Promise<boolean> {
    const known = this.#users.get(username);
    if (known && known.until > Date.now()) return known.exists;
    const exists = (await this.#ctx.gateway.findUser(username)) !== undefined;
    this.#users.set(username, { exists, until: Date.now() + USER_TTL_MS });
    return exists;
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
