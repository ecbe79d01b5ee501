import type { ChatMessage, ChatSummary, SoriClient } from "@sori/sdk";
import type { FeaturesOut } from "./features-out.ts";
import type { FilesOut } from "./files-out.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { jidOfBridged } from "./jid.ts";
import { pingAnswered } from "./ping.ts";
import type { XmlElement } from "./xmpp-library.ts";

/** Passes a group message to the identity's XMPP user in the group's room (rooms.ts). */
type DeliverToRoom = (
  username: string,
  m: ChatMessage,
  body: string,
  link: boolean,
) => Promise<"sent" | "held" | "failed">;

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
  readonly #files: FilesOut;
  readonly #flushing = new Map<string, Promise<void>>();
  #stopping = false;

  constructor(ctx: GatewayContext, features: FeaturesOut, files: FilesOut, deliverToRoom: DeliverToRoom) {
    this.#ctx = ctx;
    this.#features = features;
    this.#files = files;
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
    // A feed holds a few chats' messages: each chat is looked up once per run, not once per message.
    const chats = new Map<string, Promise<ChatSummary | undefined>>();
    const chatOf = (id: string): Promise<ChatSummary | undefined> => {
      let found = chats.get(id);
      if (!found) chats.set(id, (found = client.findChat(id)));
      return found;
    };
    for (const m of list) {
      const chat = await chatOf(m.chat);
      if (journal.wasPassedOn(username, m.id)) {
        // Passed on before a crash: its ids are noted again, in case the crash came before that.
        const asLink = m.kind === "file" && this.#files.hosts(m);
        const body = asLink ? m.text : bodyOf(m);
        if (body !== undefined && chat?.kind === "direct")
          await this.#features.passed(username, m, body, asLink);
        passed.push(m);
        continue;
      }
      const link = chat ? await this.#files.linkOf(client, m) : undefined;
      if (link?.kind === "later") {
        this.#files.retryLater(username, () => void this.flush(username, client));
        break;
      }
      const url = link?.kind === "link" ? link.url : undefined;
      if (url !== undefined && chat?.kind === "direct") {
        const stanzas = await this.#features.fileStanzas(username, client, m, url);
        if (!(await this.#sendAll(username, m, stanzas))) break;
        written.push(m.id);
        await this.#features.passed(username, m, m.text, true);
        passed.push(m);
        ctx.counters.toXmpp++;
        continue;
      }
      const body = url ?? bodyOf(m);
      if (body !== undefined && chat?.kind === "group") {
        const outcome = await this.#deliverToRoom(username, m, body, url !== undefined);
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
      if (!(await this.#sendAll(username, m, [stanza]))) break;
      written.push(m.id);
      await this.#features.passed(username, m, body);
      passed.push(m);
      ctx.counters.toXmpp++;
    }
    if (written.length > 0) {
      if (
        !(await pingAnswered(ctx.component, {
          from: ctx.domain,
          to: jid.domain,
          timeoutMs: BARRIER_TIMEOUT_MS,
        }))
      ) {
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

  /**
   * Sends the stanzas of one message, noting it written once the last is with the kernel: a crash
   * before that sends them all again (a repeat rather than a loss). False if the link failed.
   */
  async #sendAll(username: string, m: ChatMessage, stanzas: XmlElement[]): Promise<boolean> {
    const { journal } = this.#ctx;
    for (const [i, stanza] of stanzas.entries()) {
      const ok =
        i === stanzas.length - 1
          ? await this.#ctx.sendTracked(stanza, () => journal.written(username, m.id))
          : await this.#ctx.send(stanza);
      if (!ok) {
        journal.revoked(username, [m.id]);
        return false;
      }
    }
    return true;
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
      // A file the gateway does not host (none configured, or it failed: files-out.ts says why).
      return m.text
        ? `[file: ${m.file.name} (not passed on by the gateway)] ${m.text}`
        : `[file: ${m.file.name} (not passed on by the gateway)]`;
    default:
      return undefined;
  }
}
