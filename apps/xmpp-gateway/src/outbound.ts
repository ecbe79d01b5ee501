import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { FeaturesOut } from "./features-out.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { jidOfBridged } from "./jid.ts";
import { xml } from "./xmpp-library.ts";

/** Passes a group message to the identity's XMPP user in the group's room (rooms.ts). */
type DeliverToRoom = (username: string, m: ChatMessage, body: string) => Promise<"sent" | "held" | "failed">;

/** How long the XMPP server gets to answer the ping after messages before they are sent again. */
const BARRIER_TIMEOUT_MS = 10_000;

/**
 * Sori → XMPP: what Sori users sent a bridged identity, passed on to its XMPP address. Messages stay
 * in the identity's feed until the XMPP server answered a ping sent after them: it handles a stream's
 * stanzas in order, so by then it took the messages. The journal notes each stanza the moment the
 * kernel has it and each answered ping, so that a crash before the feed is let go does not send
 * anything twice (decision 16, "Exactly once"); a link that fails before the answer sends them again.
 */
export class Outbound {
  readonly #ctx: GatewayContext;
  readonly #deliverToRoom: DeliverToRoom;
  readonly #features: FeaturesOut;
  readonly #flushing = new Map<string, Promise<void>>();
  #stopping = false;

  constructor(ctx: GatewayContext, features: FeaturesOut, deliverToRoom: DeliverToRoom) {
    this.#ctx = ctx;
    this.#features = features;
    this.#deliverToRoom = deliverToRoom;
  }

  /** Passes on what waits in the identity's feed (one run at a time per identity). */
  flush(username: string, client: SoriClient): Promise<void> {
    const running = this.#flushing.get(username);
    if (running) return running.then(() => this.flush(username, client));
    const run = this.#flushOnce(username, client).finally(() => this.#flushing.delete(username));
    this.#flushing.set(username, run);
    return run;
  }

  /** Every identity's waiting messages (after the component came online). */
  flushAll(): void {
    for (const [username, client] of this.#ctx.identities.all()) void this.flush(username, client);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.allSettled([...this.#flushing.values()]);
  }

  async #flushOnce(username: string, client: SoriClient): Promise<void> {
    const ctx = this.#ctx;
    const { journal } = ctx;
    const jid = jidOfBridged(username);
    if (!jid || ctx.component.status !== "online" || this.#stopping) return;
    const list = await client.peekReceived();
    journal.keepOnly(username, new Set(list.map((m) => m.id)));
    if (list.length === 0) return;
    const passed: ChatMessage[] = [];
    const written: string[] = [];
    for (const m of list) {
      if (journal.wasPassedOn(username, m.id)) {
        // Passed on before a crash: its ids are noted again, in case the crash came before that.
        const body = bodyOf(m);
        if (body !== undefined && (await client.findChat(m.chat))?.kind === "direct")
          await this.#features.passed(username, m, body);
        passed.push(m);
        continue;
      }
      const body = bodyOf(m);
      const chat = await client.findChat(m.chat);
      if (body !== undefined && chat?.kind === "group") {
        const outcome = await this.#deliverToRoom(username, m, body);
        if (outcome === "failed") break;
        // Held for an XMPP user who is not in the room: it stays in the feed until they join.
        if (outcome === "sent") {
          passed.push(m);
          ctx.counters.toXmpp++;
          // Rooms have no receipts: passed to the occupant is as delivered as a room message gets.
          void client.confirmDelivered(m.chat, [m.id]).catch((error: unknown) => {
            ctx.log.warn("xmpp.receipt_failed", { reason: error instanceof Error ? error.name : "error" });
          });
        }
        continue;
      }
      if (body === undefined || chat?.kind !== "direct") {
        passed.push(m);
        continue;
      }
      const stanza = await this.#features.messageStanza(username, client, m, body);
      const ok = await ctx.sendTracked(stanza, () => journal.written(username, m.id));
      if (!ok) {
        journal.revoked(username, [m.id]);
        break;
      }
      written.push(m.id);
      await this.#features.passed(username, m, body);
      passed.push(m);
      ctx.counters.toXmpp++;
    }
    if (written.length > 0) {
      if (!(await this.#answeredAfter(jid.domain))) {
        journal.revoked(username, written);
        return;
      }
      journal.acked(username, written);
    }
    await client.confirmReceived(passed);
    journal.confirmed(
      username,
      passed.map((m) => m.id),
    );
  }

  /** Whether the XMPP server answers a ping: it then handled everything the stream carried before. */
  async #answeredAfter(domain: string): Promise<boolean> {
    const ctx = this.#ctx;
    const ping = xml(
      "iq",
      { type: "get", to: domain, from: ctx.domain },
      xml("ping", { xmlns: "urn:xmpp:ping" }),
    );
    try {
      await ctx.component.iqCaller.request(ping, BARRIER_TIMEOUT_MS);
      return true;
    } catch (error) {
      // An error answer is an answer: the server processed what came before it. Only silence is not.
      return error instanceof Error && error.name === "StanzaError";
    }
  }
}

/** What an XMPP client shows of a Sori message (its text; a word for what XMPP has no form for). */
export function bodyOf(m: ChatMessage): string | undefined {
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
