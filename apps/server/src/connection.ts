import {
  type ClientFrame,
  PROTOCOL_VERSION,
  ProtocolError,
  parseClientFrame,
  peekRequestId,
  toBase64,
  type WireDelivery,
  type WireRelay,
} from "@sori/protocol";
import type { DeliveryService } from "./delivery-service.ts";
import type { Logger } from "./logger.ts";
import { toProtocolError } from "./request-errors.ts";
import type { ConnectionMetrics } from "./server-metrics.ts";
import type { Caller } from "./sessions.ts";
import type { QueuedDelivery, Store } from "./store/store.ts";

/** The socket operations a connection needs; the ws library's WebSocket satisfies it via an adapter. */
export type FrameSocket = {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Bytes buffered but not yet written: used to stop pushing to a slow reader. */
  bufferedAmount(): number;
};

/** What a connection asks of the Delivery Service and the store (narrow, so tests can stand in). */
export type ConnectionService = Pick<DeliveryService, "handle" | "authResult">;
export type ConnectionStore = Pick<Store, "pending" | "ack">;

/** How a connection authenticates and registers itself (the server's registry and sessions). */
export type ConnectionHooks = {
  authenticate(token: string): Promise<Caller | undefined>;
  /** Registers an authenticated connection; returns an error if the account has too many. */
  attach(conn: Connection): ProtocolError | undefined;
  detach(conn: Connection): void;
  /** The auth answer is out: notices held for the device (a ring) may follow. */
  ready?(conn: Connection): void;
};

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const CONGESTION_RETRY_MS = 50;
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

/**
 * One WebSocket connection of one device: authentication, request dispatch, and the push of the
 * device's durable queue (everything queued at connect, then live entries) under a bounded window.
 */
export class Connection {
  readonly #socket: FrameSocket;
  readonly #service: ConnectionService;
  readonly #store: ConnectionStore;
  readonly #hooks: ConnectionHooks;
  readonly #log: Logger;
  readonly #window: number;
  readonly #maxFrameBytes: number;
  readonly #maxInFlight: number;
  readonly #address: string;
  readonly #metrics: ConnectionMetrics | undefined;
  #caller: Caller | undefined;
  #authenticating = false;
  #closed = false;
  #authTimer: ReturnType<typeof setTimeout> | undefined;
  /** Highest seq pushed; entries after it are read from the store. */
  #cursor = 0;
  /** Pushed but unacknowledged seqs, ascending. */
  #inflight: number[] = [];
  #pumping = false;
  /** Set when entries may exist in the store beyond the cursor that were not pushed live. */
  #dirty = true;
  #synced = false;
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = 0;

  constructor(
    socket: FrameSocket,
    service: ConnectionService,
    store: ConnectionStore,
    hooks: ConnectionHooks,
    log: Logger,
    options: {
      window: number;
      maxFrameBytes: number;
      /** Requests in progress at once (DEFAULT_LIMITS.requestsInFlight). */
      maxInFlight: number;
      authTimeoutMs: number;
      address: string;
      metrics?: ConnectionMetrics;
    },
  ) {
    this.#socket = socket;
    this.#service = service;
    this.#store = store;
    this.#hooks = hooks;
    this.#log = log;
    this.#window = options.window;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#maxInFlight = options.maxInFlight;
    this.#address = options.address;
    this.#metrics = options.metrics;
    this.#authTimer = setTimeout(() => this.close(4001, "authentication timeout"), options.authTimeoutMs);
  }

  get caller(): Caller | undefined {
    return this.#caller;
  }

  /** Deliveries pushed and not yet acknowledged. */
  get unacked(): number {
    return this.#inflight.length;
  }

  /** Handles one text frame from the client. Never throws: every failure becomes an error frame. */
  async receive(text: string, byteLength: number): Promise<void> {
    if (this.#closed) return;
    if (byteLength > this.#maxFrameBytes) {
      this.#sendError(
        peekRequestId(text),
        new ProtocolError("too-large", `frame is ${byteLength} bytes; the limit is ${this.#maxFrameBytes}`, {
          limit: this.#maxFrameBytes,
        }),
      );
      return;
    }
    // A client that pipelines requests without reading the answers must not grow the server's memory.
    if (this.#socket.bufferedAmount() > MAX_UNREAD_BYTES) {
      this.close(1008, "too many unread answers; read what the server sends");
      return;
    }
    if (this.#inFlight >= this.#maxInFlight) {
      this.#sendError(
        peekRequestId(text),
        new ProtocolError(
          "rate-limited",
          `at most ${this.#maxInFlight} requests may be in progress at once`,
          {
            retryAfterS: 1,
          },
        ),
      );
      return;
    }
    this.#inFlight++;
    try {
      await this.#handle(text);
    } finally {
      this.#inFlight--;
    }
  }

  async #handle(text: string): Promise<void> {
    const started = performance.now();
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(text);
    } catch (error) {
      const e = error instanceof ProtocolError ? error : new ProtocolError("bad-frame", "unreadable frame");
      this.#sendError(peekRequestId(text), e);
      this.#metrics?.request("unparsed", (performance.now() - started) / 1000, e.code);
      return;
    }
    try {
      if (frame.type === "auth") {
        await this.#auth(frame);
        this.#metrics?.request("auth", (performance.now() - started) / 1000, undefined);
        return;
      }
      const caller = this.#caller;
      if (!caller) throw new ProtocolError("unauthenticated", "send an auth frame with a valid token first");
      if (frame.type === "ack") {
        const removed = await this.#ack(frame.upTo);
        if (frame.id !== undefined) this.#send({ type: "result", re: frame.id, result: { removed } });
      } else {
        const result = await this.#service.handle(caller, frame);
        this.#send({ type: "result", re: frame.id, result });
      }
      this.#metrics?.request(frame.type, (performance.now() - started) / 1000, undefined);
    } catch (error) {
      const e = toProtocolError(error, this.#log, frame.type);
      // An unanswered ack expects nothing back (the failure is logged; the entries come again) unless
      // the device is not even signed in, which it must learn.
      if (frame.type === "ack" && frame.id === undefined && e.code !== "unauthenticated") {
        this.#metrics?.request(frame.type, (performance.now() - started) / 1000, e.code);
        return;
      }
      this.#sendError(frame.id, e);
      this.#metrics?.request(frame.type, (performance.now() - started) / 1000, e.code);
    }
  }

  async #auth(frame: Extract<ClientFrame, { type: "auth" }>): Promise<void> {
    if (this.#caller || this.#authenticating) throw new ProtocolError("bad-request", "already authenticated");
    if (frame.v < PROTOCOL_VERSION)
      throw new ProtocolError(
        "client-too-old",
        `this server speaks protocol ${PROTOCOL_VERSION}; update the client`,
      );
    if (frame.v > PROTOCOL_VERSION)
      throw new ProtocolError(
        "server-too-old",
        `this server speaks protocol ${PROTOCOL_VERSION}; update the server`,
      );
    this.#authenticating = true;
    try {
      const caller = await this.#hooks.authenticate(frame.token);
      if (!caller)
        throw new ProtocolError(
          "auth-failed",
          "the session token is invalid, expired or revoked; log in again",
        );
      if (this.#closed) return;
      this.#caller = { ...caller, address: this.#address };
      const refused = this.#hooks.attach(this);
      if (refused) {
        this.#caller = undefined;
        this.#sendError(frame.id, refused);
        this.close(4029, refused.message);
        return;
      }
      clearTimeout(this.#authTimer);
      this.#authTimer = undefined;
      this.#send({ type: "result", re: frame.id, result: await this.#service.authResult(caller) });
      this.#log.info("device.connected", { device: caller.deviceId });
      if (!this.#closed) this.#hooks.ready?.(this);
      void this.#pump();
    } finally {
      this.#authenticating = false;
    }
  }

  /** A new entry was queued for this device: push it now if nothing older is waiting. */
  offer(delivery: QueuedDelivery): void {
    if (!this.#caller || this.#closed) return;
    if (!this.#pumping && !this.#dirty && this.#inflight.length < this.#window && !this.#congested()) {
      this.#push(delivery);
      return;
    }
    // Older entries wait, the window is full or the socket is backed up: the store has it, and the
    // pump sends it in order once there is room (an ack, or the socket draining, restarts it).
    this.#dirty = true;
    if (!this.#pumping && this.#inflight.length < this.#window) this.#schedulePump();
  }

  #congested(): boolean {
    return this.#socket.bufferedAmount() > MAX_BUFFERED_BYTES;
  }

  /** Pumps now, or shortly if the socket is still backed up. */
  #schedulePump(): void {
    if (this.#pumpTimer || this.#closed) return;
    if (!this.#congested()) {
      void this.#pump();
      return;
    }
    this.#pumpTimer = setTimeout(() => {
      this.#pumpTimer = undefined;
      this.#schedulePump();
    }, CONGESTION_RETRY_MS);
  }

  #push(d: QueuedDelivery): void {
    const frame: WireDelivery = {
      type: "deliver",
      seq: d.seq,
      kind: d.kind,
      messageId: d.messageId,
      from: { userId: d.senderUserId, deviceId: d.senderDeviceId },
      sentAt: d.sentAt,
    };
    if (d.groupId !== null) frame.groupId = d.groupId;
    if (d.epoch !== null) frame.epoch = d.epoch;
    if (d.data !== null) frame.data = toBase64(d.data);
    this.#cursor = d.seq;
    this.#inflight.push(d.seq);
    this.#send(frame);
    this.#metrics?.delivered();
  }

  async #pump(): Promise<void> {
    const caller = this.#caller;
    if (this.#pumping || !caller) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#dirty) {
        const room = this.#window - this.#inflight.length;
        if (room <= 0) return;
        if (this.#congested()) {
          queueMicrotask(() => this.#schedulePump());
          return;
        }
        this.#dirty = false;
        const batch = await this.#store.pending(caller.deviceId, this.#cursor, room);
        for (const d of batch) if (d.seq > this.#cursor) this.#push(d);
        if (batch.length === room) this.#dirty = true;
      }
      if (!this.#synced && !this.#closed) {
        this.#synced = true;
        this.#send({ type: "synced", upTo: this.#cursor });
      }
    } catch (error) {
      this.#log.error("queue.read_failed", {
        device: caller.deviceId,
        error: error instanceof Error ? error.name : "unknown",
      });
      this.close(1011, "could not read the message queue; reconnect");
    } finally {
      this.#pumping = false;
    }
  }

  async #ack(upTo: number): Promise<number> {
    const caller = this.#caller!;
    // Only what was pushed can be acknowledged: an early ack must not delete unseen entries.
    const limit = Math.min(upTo, this.#cursor);
    const removed = await this.#store.ack(caller.deviceId, limit);
    this.#inflight = this.#inflight.filter((s) => s > limit);
    if (this.#dirty) void this.#pump();
    return removed;
  }

  #sendError(re: string | number | undefined, error: ProtocolError): void {
    const frame: Record<string, unknown> = { type: "error", code: error.code, message: error.message };
    if (re !== undefined) frame.re = re;
    if (Object.keys(error.details).length > 0) frame.details = error.details;
    this.#send(frame);
  }

  #send(frame: object): void {
    if (this.#closed) return;
    this.#socket.send(JSON.stringify(frame));
  }

  /** Sends a typed notice (not a response) to the device. */
  notify(frame: { type: "kp.low"; remaining: number } | WireRelay): void {
    // Not yet authenticated: the device has not proven who it is, so it gets nothing.
    if (!this.#caller) return;
    this.#send(frame);
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#socket.close(code, reason);
    this.closed();
  }

  /** The socket went away (either side). */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    clearTimeout(this.#pumpTimer);
    if (this.#caller) {
      this.#hooks.detach(this);
      this.#log.info("device.disconnected", { device: this.#caller.deviceId });
    }
  }
}
