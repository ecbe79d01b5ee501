import {
  type ClientFrameType,
  type ClientRequest,
  type Delivery,
  ERROR_CODES,
  type Relay,
  type ErrorCode,
  PROTOCOL_VERSION,
  parseResult,
  parseServerFrame,
  type ResultOf,
  WS_PATH,
} from "@sori/protocol";
import { SdkError } from "../errors.ts";

/** Why the server will not take this device's credentials (and retrying cannot help). */
export type AuthRefusal = { code: "auth-failed" | "client-too-old" | "server-too-old"; message: string };

export type TransportEvents = {
  /** Authenticated; the server will now push the device's queue. */
  onConnected(info: ResultOf<"auth">): void;
  onDisconnected(reason: string): void;
  onDelivery(delivery: Delivery): void;
  /** A transient message (call signalling): not queued, never acknowledged. */
  onRelay?(relay: Relay): void;
  /** Everything queued at connect time up to `upTo` has been pushed. */
  onSynced(upTo: number): void;
  onKeyPackagesLow(remaining: number): void;
  /** The token was refused: reconnecting cannot help. */
  onAuthFailed(refusal: AuthRefusal): void;
};

export type TransportOptions = {
  serverUrl: string;
  token: string;
  events: TransportEvents;
  requestTimeoutMs?: number;
  /** Upper bound of the reconnect backoff. */
  maxBackoffMs?: number;
};

type Pending = {
  type: ClientFrameType;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

const HEARTBEAT_MS = 25_000;

const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);

/**
 * The WebSocket link to the server: authenticates, matches results to requests, and reconnects with
 * exponential backoff and jitter until closed. Requests made while offline wait for the link.
 */
export class Transport {
  readonly #opts: Required<Omit<TransportOptions, "events">> & { events: TransportEvents };
  #ws: WebSocket | undefined;
  #ready = false;
  #closed = false;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #waiters: ((refused: SdkError | undefined) => void)[] = [];
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: TransportOptions) {
    this.#opts = { requestTimeoutMs: 15_000, maxBackoffMs: 30_000, ...options };
  }

  get connected(): boolean {
    return this.#up();
  }

  // A socket already closing (its close event not yet fired) counts as down: a frame sent on it is
  // lost, and a sender told "connected" would retry at once and burn its attempts before the close.
  #up(): boolean {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.#open();
  }

  #open(): void {
    if (this.#closed) return;
    const url = new URL(WS_PATH, this.#opts.serverUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.#scheduleReconnect("cannot open a WebSocket");
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      const id = this.#nextId++;
      this.#pending.set(id, {
        type: "auth",
        resolve: (info) => {
          this.#ready = true;
          this.#attempt = 0;
          this.#startHeartbeat();
          this.#opts.events.onConnected(info as ResultOf<"auth">);
          for (const w of this.#waiters.splice(0)) w(undefined);
        },
        reject: (e) => {
          if (
            e instanceof SdkError &&
            (e.code === "auth-failed" || e.code === "client-too-old" || e.code === "server-too-old")
          ) {
            this.#opts.events.onAuthFailed({ code: e.code, message: e.message });
            // Whoever waits for the link hears it now, not at their timeout: it will not come.
            for (const w of this.#waiters.splice(0)) w(e);
            this.close();
            return;
          }
          // Refused for now (e.g. too many connections): tell whoever waits, keep retrying with backoff.
          if (e instanceof SdkError) for (const w of this.#waiters.splice(0)) w(e);
          ws.close();
        },
        timer: setTimeout(() => ws.close(), this.#opts.requestTimeoutMs),
      });
      ws.send(JSON.stringify({ type: "auth", id, v: PROTOCOL_VERSION, token: this.#opts.token }));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.#onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      const wasReady = this.#ready;
      this.#ready = false;
      this.#failPending(new SdkError("offline", "the connection to the server was lost"));
      const reason = ev.reason || `connection closed (${ev.code})`;
      if (wasReady) this.#opts.events.onDisconnected(reason);
      this.#scheduleReconnect(reason);
    };
    ws.onerror = () => {
      // onclose follows and handles reconnecting.
    };
  }

  /** Pings while connected so a dead link is noticed (the ping times out and the socket is closed). */
  #startHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      if (this.#ready) this.request({ type: "ping" }).catch(() => undefined);
    }, HEARTBEAT_MS);
    // The heartbeat alone must not keep a process alive.
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  #scheduleReconnect(_reason: string): void {
    if (this.#closed || this.#retryTimer) return;
    const base = Math.min(this.#opts.maxBackoffMs, 250 * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 16);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, delay);
  }

  #onFrame(text: string): void {
    let frame: ReturnType<typeof parseServerFrame>;
    try {
      frame = parseServerFrame(text);
    } catch {
      // A frame we cannot read is dropped; the server's queue will push it again if it mattered.
      return;
    }
    switch (frame.type) {
      case "result":
      case "error": {
        const id = typeof frame.re === "number" ? frame.re : Number(frame.re);
        const p = this.#pending.get(id);
        if (!p) return;
        this.#pending.delete(id);
        clearTimeout(p.timer);
        if (frame.type === "error") {
          const code = isErrorCode(frame.code) ? frame.code : "internal";
          p.reject(new SdkError(code, frame.message, (frame.details ?? {}) as SdkError["details"]));
        } else {
          try {
            p.resolve(parseResult(p.type, frame.result));
          } catch (e) {
            p.reject(new SdkError("bad-frame", "the server sent a malformed result", {}, { cause: e }));
          }
        }
        return;
      }
      case "deliver":
        this.#opts.events.onDelivery(frame);
        return;
      case "relay":
        this.#opts.events.onRelay?.(frame);
        return;
      case "synced":
        this.#opts.events.onSynced(frame.upTo);
        return;
      case "kp.low":
        this.#opts.events.onKeyPackagesLow(frame.remaining);
        return;
    }
  }

  /**
   * Sends an acknowledgement that the server does not answer (feature level 3). Returns false, having
   * sent nothing, when not connected: the entries are then simply delivered again after reconnecting.
   */
  sendUnansweredAck(upTo: number): boolean {
    const ws = this.#ws;
    if (!ws || !this.#up()) return false;
    ws.send(JSON.stringify({ type: "ack", upTo }));
    return true;
  }

  /** Sends a request and resolves with its typed result; waits for the link if offline. */
  async request<R extends ClientRequest>(request: R): Promise<ResultOf<R["type"]>> {
    if (!this.#up()) await this.waitConnected(this.#opts.requestTimeoutMs);
    const ws = this.#ws;
    if (!ws || !this.#up()) throw new SdkError("offline", "not connected to the server");
    const id = this.#nextId++;
    return new Promise<ResultOf<R["type"]>>((resolve, reject) => {
      this.#pending.set(id, {
        type: request.type,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.#pending.delete(id);
          reject(new SdkError("timeout", `the server did not answer ${request.type} in time`));
          // A silent server usually means a dead (half-open) connection: reconnect.
          if (this.#ws === ws) ws.close();
        }, this.#opts.requestTimeoutMs),
      });
      ws.send(JSON.stringify({ ...request, id }));
    });
  }

  /** Resolves once authenticated; rejects with "offline" after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.#up()) return Promise.resolve();
    if (this.#closed) return Promise.reject(new SdkError("closed", "the client is closed"));
    return new Promise<void>((resolve, reject) => {
      const done = (refused: SdkError | undefined): void => {
        clearTimeout(timer);
        if (refused) reject(refused);
        else resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        reject(new SdkError("offline", `cannot reach the server at ${this.#opts.serverUrl}`));
      }, timeoutMs);
      this.#waiters.push(done);
    });
  }

  #failPending(error: SdkError): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(error);
    }
  }

  /** Drops the current socket (as a network failure would); the transport reconnects. */
  dropConnection(): void {
    this.#ws?.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeat);
    this.#ready = false;
    this.#failPending(new SdkError("closed", "the client is closed"));
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close(1000, "client closed");
  }
}
