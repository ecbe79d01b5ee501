import type { Logger } from "@sori/server";
import type { XmppComponent } from "./xmpp-library.ts";

/** The first wait before connecting again, and the longest (the doubling stops there). */
const RECONNECT_FIRST_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

/**
 * Connects the component again whenever its link goes, with waits that double from 1 s to at most
 * 30 s (each with up to a quarter taken off at random, so that gateways restarted together do not
 * knock at once) and start over once it is online. xmpp.js's own reconnect waits a fixed second
 * forever and gives up for good if the server accepts the TCP connection but never opens the stream;
 * this one ends such a half-open attempt, so every failure leads to the next try. Every try is
 * logged with its number and wait.
 */
export class ReconnectBackoff {
  readonly #component: XmppComponent;
  readonly #log: Logger;
  readonly #firstMs: number;
  readonly #maxMs: number;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(component: XmppComponent, log: Logger, options: { firstMs?: number; maxMs?: number } = {}) {
    this.#component = component;
    this.#log = log;
    this.#firstMs = options.firstMs ?? RECONNECT_FIRST_MS;
    this.#maxMs = options.maxMs ?? RECONNECT_MAX_MS;
    component.reconnect.stop();
    component.on("disconnect", () => this.#schedule());
    component.on("online", () => {
      if (this.#attempt > 0) this.#log.info("xmpp.reconnected", { attempts: this.#attempt });
      this.#attempt = 0;
    });
  }

  /** The first connection: a failure is logged, and tries follow as after any lost link. */
  async start(): Promise<void> {
    try {
      await this.#component.start();
    } catch (error) {
      this.#failed("xmpp.connect_failed", error);
    }
  }

  /** The wait before try number `attempt` (1, 2, …), before the random part. */
  delayOf(attempt: number): number {
    return Math.min(this.#maxMs, this.#firstMs * 2 ** Math.min(attempt - 1, 30));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#attempt++;
    const delayMs = Math.round(this.delayOf(this.#attempt) * (1 - Math.random() / 4));
    this.#log.info("xmpp.reconnect_scheduled", { attempt: this.#attempt, delayMs });
    this.#timer = setTimeout(() => void this.#try(), delayMs);
  }

  async #try(): Promise<void> {
    const c = this.#component;
    if (this.#stopped || c.status !== "disconnect") return;
    try {
      await c.reconnect.reconnect();
    } catch (error) {
      this.#failed("xmpp.reconnect_failed", error);
    }
  }

  #failed(event: string, error: unknown): void {
    const c = this.#component;
    const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : "error";
    this.#log.warn(event, { attempt: this.#attempt, reason });
    // Refused: the socket closed and "disconnect" scheduled the next try already. Accepted but the
    // stream never opened: nothing else would end it, so end it here and the next try follows.
    if (!this.#stopped && c.status !== "disconnect" && c.status !== "online") c.socket?.destroy();
  }
}
