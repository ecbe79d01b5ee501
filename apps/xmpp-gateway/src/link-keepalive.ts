import type { Logger } from "@sori/server";
import { pingAnswered } from "./ping.ts";
import type { XmppComponent } from "./xmpp-library.ts";

/** How long the link may be quiet before the gateway asks the XMPP server whether it is there. */
const QUIET_MS = 60_000;
/** How long the XMPP server gets to answer that ping before the link counts as dead. */
const ANSWER_MS = 20_000;

/**
 * Finds a link that died without closing (a NAT that forgot it, a server that froze, a cable pulled
 * on the other side): TCP alone would notice only after many minutes, and meanwhile what Sori users
 * send waits unsent. When nothing arrived for `quietMs`, the gateway pings itself through the XMPP
 * server (XEP-0199; any answer, an error too, proves the link alive, and the ping keeps NAT mappings
 * fresh); with no answer in
 * `answerMs` it ends the socket, and ReconnectBackoff connects again.
 */
export class LinkKeepalive {
  readonly #component: XmppComponent;
  readonly #log: Logger;
  readonly #domain: string;
  readonly #quietMs: number;
  readonly #answerMs: number;
  #lastHeard = 0;
  #timer: NodeJS.Timeout | undefined;
  #pinging = false;
  #stopped = false;

  constructor(
    component: XmppComponent,
    log: Logger,
    o: { domain: string; quietMs?: number; answerMs?: number },
  ) {
    this.#component = component;
    this.#log = log;
    this.#domain = o.domain;
    this.#quietMs = o.quietMs ?? QUIET_MS;
    this.#answerMs = o.answerMs ?? ANSWER_MS;
    component.on("stanza", () => (this.#lastHeard = Date.now()));
    // XEP-0199: an entity answers pings (its own through the server among them) with an empty result.
    component.iqCallee.get("urn:xmpp:ping", "ping", () => Promise.resolve(true));
    component.on("online", () => {
      this.#lastHeard = Date.now();
      this.#arm(this.#quietMs);
    });
    component.on("disconnect", () => clearTimeout(this.#timer));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), ms);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const c = this.#component;
    if (this.#stopped || c.status !== "online" || this.#pinging) return;
    const quietFor = Date.now() - this.#lastHeard;
    if (quietFor < this.#quietMs) return this.#arm(this.#quietMs - quietFor);
    this.#pinging = true;
    const socket = c.socket;
    // To the component's own domain: the XMPP server routes it back here, a round trip over the
    // very link in question, whatever the server's own name (which a component need not know).
    const alive = await pingAnswered(c, { from: this.#domain, to: this.#domain, timeoutMs: this.#answerMs });
    this.#pinging = false;
    if (!alive && c.socket === socket) {
      this.#log.warn("xmpp.link_dead", { silentMs: Date.now() - this.#lastHeard });
      socket?.destroy();
      return;
    }
    this.#lastHeard = Date.now();
    this.#arm(this.#quietMs);
  }
}
