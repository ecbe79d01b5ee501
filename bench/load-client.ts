// One simulated user of the message-load benchmark: a device, its WebSocket and its batched acks.
import type { AuthResponse } from "@sori/protocol";
import type { Transport } from "./transport.ts";

/** How long a request may go unanswered before the benchmark counts it as failed. */
export const REQUEST_TIMEOUT_MS = 30_000;
const ACK_EVERY = 32;
const ACK_AFTER_MS = 20;

type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void };

/** The fields of any server frame the benchmark looks at. */
export type Frame = {
  type: string;
  re?: number;
  result?: { duplicate?: boolean };
  code?: string;
  message?: string;
  seq?: number;
  kind?: string;
  groupId?: string;
  messageId?: string;
  from?: { deviceId: string };
};

/** One load client: a registered user with one device and one WebSocket. */
export class LoadClient {
  readonly index: number;
  readonly deviceId: string;
  readonly token: string;
  transport: Transport | undefined;
  /** 1:1 groups this client is a member of (created by it or by its partner). */
  readonly groups: string[] = [];
  nextId = 1;
  /** Outstanding `send` request id → message index. */
  readonly sends = new Map<number, number>();
  /** Outstanding setup requests (auth, group.create). */
  readonly requests = new Map<number, Pending>();
  welcomes = 0;
  /** Disconnected on purpose (--churn) and not yet back. */
  churning = false;
  reconnects = 0;
  lastSeq = 0;
  unacked = 0;
  /** The server takes acks without an answer (feature level 3). */
  unansweredAcks = false;
  ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(index: number, registered: AuthResponse) {
    this.index = index;
    this.deviceId = registered.deviceId;
    this.token = registered.token;
  }

  request(frame: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new Error(`no answer to ${String(frame.type)} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.requests.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolvePromise(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.transport!.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Acks are batched: the server keeps pushing while fewer than 256 deliveries are unacked. */
  noteDelivery(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.unacked++;
    if (this.unacked >= ACK_EVERY) this.flushAck();
    else this.ackTimer ??= setTimeout(() => this.flushAck(), ACK_AFTER_MS);
  }

  flushAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.unacked === 0 || !this.transport) return;
    this.unacked = 0;
    this.transport.send(
      this.unansweredAcks
        ? `{"type":"ack","upTo":${this.lastSeq}}`
        : `{"type":"ack","id":${this.nextId++},"upTo":${this.lastSeq}}`,
    );
  }
}
