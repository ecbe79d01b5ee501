import {
  type ClientRequest,
  type Delivery,
  type Relay,
  type ResultOf,
  UNANSWERED_ACK_LEVEL,
} from "@sori/protocol";
import type { ClientEvents, ConnectionState } from "../client-events.ts";
import { SdkError } from "../errors.ts";
import { CATCH_UP_TIMEOUT_MS } from "../groups/group-states.ts";
import type { TypedEmitter } from "../util/typed-emitter.ts";
import { type AuthRefusal, Transport } from "./transport.ts";

/** How often a request lost to a dropped connection is sent again after the reconnect. */
const OFFLINE_RETRIES = 3;

/** What the connection hands to the rest of the device. */
export type ConnectionHooks = {
  /** Authenticated; `restored` after a loss (not on the first connection). */
  onConnected(restored: boolean): void;
  onDisconnected(): void;
  onDelivery(delivery: Delivery): void;
  onRelay(relay: Relay): void;
  onSynced(upTo: number): void;
  onKeyPackagesLow(): void;
  /** The token was refused: nothing will work until the device signs in again. */
  onAuthFailed(refusal: AuthRefusal): void;
};

/**
 * The device's link to the server: one Transport (WebSocket with reconnects), the connection state the
 * app shows, requests that survive a reconnect, and acknowledgements.
 */
export class Connection {
  readonly #server: { serverUrl: string; token: string };
  readonly #events: TypedEmitter<ClientEvents>;
  readonly #hooks: ConnectionHooks;
  #transport: Transport | undefined;
  #state: ConnectionState = "disconnected";
  /** The connected server's feature level (from auth); 0 until the first connection. */
  #featureLevel = 0;
  #authFailed: string | undefined;

  constructor(
    server: { serverUrl: string; token: string },
    events: TypedEmitter<ClientEvents>,
    hooks: ConnectionHooks,
  ) {
    this.#server = server;
    this.#events = events;
    this.#hooks = hooks;
  }

  /** True from start() until close(). */
  get started(): boolean {
    return this.#transport !== undefined;
  }

  /** "connecting" until the first connection, "disconnected" while reconnecting after a loss. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The connected server's feature level (from its last auth answer); 0 before the first connection. */
  get featureLevel(): number {
    return this.#featureLevel;
  }

  /** Why the server refused this device's token, once it did. */
  get authFailed(): string | undefined {
    return this.#authFailed;
  }

  /** Opens the link; it then reconnects by itself until close(). */
  start(): void {
    if (this.#transport) return;
    this.#transport = new Transport({
      serverUrl: this.#server.serverUrl,
      token: this.#server.token,
      events: {
        onConnected: (info) => {
          this.#featureLevel = info.featureLevel;
          const restored = this.#state === "disconnected";
          this.#setState("connected");
          this.#hooks.onConnected(restored);
        },
        onDisconnected: () => {
          this.#hooks.onDisconnected();
          this.#setState("disconnected");
        },
        onDelivery: (d) => this.#hooks.onDelivery(d),
        onRelay: (r) => this.#hooks.onRelay(r),
        onSynced: (upTo) => this.#hooks.onSynced(upTo),
        onKeyPackagesLow: () => this.#hooks.onKeyPackagesLow(),
        onAuthFailed: (refusal) => {
          this.#authFailed = refusal.message;
          this.#hooks.onAuthFailed(refusal);
        },
      },
    });
    this.#setState("connecting");
    this.#transport.start();
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit("connection", state);
  }

  /** Resolves once authenticated; "auth-failed" if the token was refused, "offline" after the timeout. */
  async waitConnected(timeoutMs: number = CATCH_UP_TIMEOUT_MS): Promise<void> {
    const transport = this.#transport;
    if (!transport) throw new SdkError("offline", "not connected: call connect() first");
    await transport.waitConnected(timeoutMs).catch((e: unknown) => {
      if (this.#authFailed) throw new SdkError("auth-failed", this.#authFailed);
      throw e;
    });
  }

  /**
   * Sends a request; if the connection is lost before the answer, waits for the reconnect and sends it
   * again. Every request is safe to repeat: the server recognises resent messages and commits by id.
   */
  async request<R extends ClientRequest>(request: R): Promise<ResultOf<R["type"]>> {
    for (let attempt = 0; ; attempt++) {
      const transport = this.#transport;
      if (!transport) throw new SdkError("offline", "not connected: call connect() first");
      try {
        return await transport.request(request);
      } catch (error) {
        const lost = error instanceof SdkError && (error.code === "offline" || error.code === "timeout");
        if (!lost || attempt >= OFFLINE_RETRIES) throw error;
        await transport.waitConnected(CATCH_UP_TIMEOUT_MS);
      }
    }
  }

  /**
   * Acknowledges processed deliveries. Servers of feature level 3 take an ack without an answer (a
   * frame less per delivery); older ones get a request. Never throws: unacknowledged entries come
   * again after reconnecting, and duplicates are dropped.
   */
  async ack(upTo: number): Promise<void> {
    if (this.#featureLevel >= UNANSWERED_ACK_LEVEL && this.#transport?.sendUnansweredAck(upTo)) return;
    await this.request({ type: "ack", upTo }).catch(() => undefined);
  }

  /** Simulates a network failure (for tests and diagnostics): the transport reconnects by itself. */
  drop(): void {
    this.#transport?.dropConnection();
  }

  close(): void {
    this.#transport?.close();
    this.#transport = undefined;
  }
}
