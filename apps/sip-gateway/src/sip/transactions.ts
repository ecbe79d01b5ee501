import { randomBytes } from "node:crypto";
import {
  formatRequest,
  formatResponse,
  type RequestParts,
  type ResponseOptions,
  type SipSource,
} from "./sip-format.ts";
import type { SipRequest, SipResponse } from "./sip-message.ts";

/** RFC 3261 §17 timer base values (ms): T1 the round-trip estimate, T2 the cap on retransmit intervals. */
const T1_MS = 500;
const T2_MS = 4000;
/** Timers F, H, J and B: 64·T1, how long a transaction lives waiting. */
const TRANSACTION_TIMEOUT_MS = 64 * T1_MS;
/** Timer C (RFC 3261 §16.6): how long an INVITE may stay at a provisional response. */
const INVITE_RINGING_MS = 3 * 60_000;

/**
 * TCP and TLS deliver or fail on their own (RFC 3261 §17): no retransmissions (timers A, E, G, and
 * the 2xx repeats), timers D, I, J and K are 0; timers B, F and H still bound how long one waits.
 */
function reliable(to: SipSource): boolean {
  return to.transport !== "UDP";
}

/** How the transaction layer sends bytes and sets timers; tests pass fakes. */
export type TransactionIo = {
  send(text: string, to: SipSource): void;
  setTimer(fn: () => void, ms: number): () => void;
};

/** A new branch parameter (RFC 3261 magic cookie first). */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(9).toString("base64url")}`;
}

/** What arrived for a request, once retransmissions are taken care of. */
export type ServerArrival =
  | { kind: "new"; tx: ServerTransaction }
  /** A retransmission: the last response was sent again (or it is still being worked on). */
  | { kind: "absorbed" }
  /** The ACK of a 2xx (its own transaction): the dialog is confirmed; it may carry an answer. */
  | { kind: "ack-2xx"; request: SipRequest }
  /** An ACK of a non-2xx final response: absorbed by the INVITE transaction. */
  | { kind: "ack-absorbed" }
  /** An ACK that matches nothing (RFC 3261 says to drop it). */
  | { kind: "ack-stray" };

/**
 * One server transaction (RFC 3261 §17.2): answers a request and, over UDP, answers its
 * retransmissions with the last response; an INVITE's final response is repeated (timers G and H)
 * until the ACK comes. A 2xx to an INVITE is repeated until its ACK (RFC 6026's Accepted state).
 */
export class ServerTransaction {
  readonly request: SipRequest;
  readonly source: SipSource;
  readonly #layer: ServerTransactions;
  #last: string | undefined;
  #final = false;
  #stopRetransmit: (() => void) | undefined;

  constructor(request: SipRequest, source: SipSource, layer: ServerTransactions) {
    this.request = request;
    this.source = source;
    this.#layer = layer;
  }

  get answered(): boolean {
    return this.#final;
  }

  /** Sends a response; a second final response is ignored (the first one stands). */
  respond(status: number, options: ResponseOptions = {}): void {
    if (this.#final) return;
    const text = formatResponse(this.request, this.source, status, options);
    this.#last = text;
    this.#layer.io.send(text, this.source);
    if (status < 200) return;
    this.#final = true;
    if (this.request.method === "INVITE") {
      if (!reliable(this.source)) this.#retransmit(text, T1_MS);
      if (status < 300) this.#layer.awaitAck(this);
    }
    this.#layer.linger(this, this.request.method === "INVITE" ? TRANSACTION_TIMEOUT_MS : this.#lingerMs());
  }

  /** A retransmission of the request arrived. */
  repeat(): void {
    if (this.#last) this.#layer.io.send(this.#last, this.source);
  }

  /** The ACK came: stop repeating the final response. */
  acknowledged(): void {
    this.#stopRetransmit?.();
    this.#stopRetransmit = undefined;
  }

  #retransmit(text: string, interval: number): void {
    this.#stopRetransmit = this.#layer.io.setTimer(() => {
      this.#layer.io.send(text, this.source);
      this.#retransmit(text, Math.min(interval * 2, T2_MS));
    }, interval);
  }

  #lingerMs(): number {
    // Timer J: keep answering retransmissions over UDP; nothing to absorb on a stream.
    return reliable(this.source) ? 0 : TRANSACTION_TIMEOUT_MS;
  }

  /** Ends the transaction's timers (timer H/J fired, or the gateway stops). */
  stop(): void {
    this.acknowledged();
  }
}

/** The server side of the transaction layer: finds the transaction every request belongs to. */
export class ServerTransactions {
  readonly io: TransactionIo;
  readonly #byKey = new Map<string, ServerTransaction>();
  /** INVITEs answered 2xx whose ACK has not come: Call-ID + CSeq → transaction. */
  readonly #awaitingAck = new Map<string, ServerTransaction>();

  constructor(io: TransactionIo) {
    this.io = io;
  }

  receive(req: SipRequest, source: SipSource): ServerArrival {
    if (req.method === "ACK") {
      const pending = this.#awaitingAck.get(ackKey(req.callId, req.cseq.seq));
      if (pending) {
        pending.acknowledged();
        this.#awaitingAck.delete(ackKey(req.callId, req.cseq.seq));
        return { kind: "ack-2xx", request: req };
      }
      const invite = this.#byKey.get(keyOf(req, "INVITE"));
      if (invite) {
        invite.acknowledged();
        return { kind: "ack-absorbed" };
      }
      return { kind: "ack-stray" };
    }
    const key = keyOf(req, req.method);
    const existing = this.#byKey.get(key);
    if (existing) {
      existing.repeat();
      return { kind: "absorbed" };
    }
    const tx = new ServerTransaction(req, source, this);
    this.#byKey.set(key, tx);
    return { kind: "new", tx };
  }

  /** The INVITE transaction a CANCEL is for (same branch), if it is still there. */
  inviteFor(cancel: SipRequest): ServerTransaction | undefined {
    return this.#byKey.get(keyOf(cancel, "INVITE"));
  }

  awaitAck(tx: ServerTransaction): void {
    const key = ackKey(tx.request.callId, tx.request.cseq.seq);
    this.#awaitingAck.set(key, tx);
    this.io.setTimer(() => {
      // No ACK within 64·T1: stop repeating (the call leg above notices through its own timers).
      if (this.#awaitingAck.get(key) === tx) this.#awaitingAck.delete(key);
      tx.stop();
    }, TRANSACTION_TIMEOUT_MS);
  }

  linger(tx: ServerTransaction, ms: number): void {
    const key = keyOf(tx.request, tx.request.method);
    const drop = (): void => {
      tx.stop();
      if (this.#byKey.get(key) === tx) this.#byKey.delete(key);
    };
    if (ms === 0) drop();
    else this.io.setTimer(drop, ms);
  }

  get size(): number {
    return this.#byKey.size;
  }

  stop(): void {
    for (const tx of this.#byKey.values()) tx.stop();
    this.#byKey.clear();
    this.#awaitingAck.clear();
  }
}

/**
 * RFC 3261 §17.2.3: branch, sent-by and method; pre-3261 peers (no magic cookie) by their headers,
 * and so is a branch that is the magic cookie alone (RFC 4475's badbranch): keyed by it, every
 * such request from one peer would look like a retransmission of the first.
 */
function keyOf(req: SipRequest, method: string): string {
  const top = req.via[0]!;
  const sentBy = `${top.host}:${top.port ?? ""}`;
  if (top.branch?.startsWith("z9hG4bK") && top.branch.length > 7) return `${top.branch}|${sentBy}|${method}`;
  return `${req.callId}|${req.cseq.seq}|${req.from.params.tag ?? ""}|${sentBy}|${method}`;
}

function ackKey(callId: string, seq: number): string {
  return `${callId}|${seq}`;
}

/** A request the gateway sends, with what it needs to retransmit it and match its responses. */
type Pending = {
  branch: string;
  method: string;
  to: SipSource;
  fail: (error: Error) => void;
  onResponse: (r: SipResponse) => void;
  stop: () => void;
};

/** The connection a request went over failed before its answer (RFC 3261 §17.1.4: a transport error). */
class SipTransportFailedError extends Error {
  readonly code = "sip-transport-failed";
  constructor(method: string) {
    super(`the connection for ${method} failed`);
    this.name = "SipTransportFailedError";
  }
}

export class SipTimeoutError extends Error {
  readonly code = "sip-timeout";
  constructor(method: string) {
    super(`no final answer to ${method} in time`);
    this.name = "SipTimeoutError";
  }
}

/**
 * The client side (RFC 3261 §17.1): sends a request, repeats it over UDP (timers A and E) until a
 * response comes, gives up after 64·T1 (timers B and F), and hands responses to the caller.
 */
export class ClientTransactions {
  readonly #io: TransactionIo;
  readonly #pending = new Map<string, Pending>();

  constructor(io: TransactionIo) {
    this.#io = io;
  }

  /**
   * Sends `parts` (whose top Via must carry `branch`) and resolves with the final response;
   * provisional ones go to `onProvisional`. Rejects with SipTimeoutError.
   */
  request(
    parts: RequestParts,
    branch: string,
    to: SipSource,
    onProvisional: (r: SipResponse) => void = () => undefined,
  ): Promise<SipResponse> {
    const text = formatRequest(parts);
    return new Promise<SipResponse>((resolve, reject) => {
      let provisional = false;
      let cancelRetransmit: (() => void) | undefined;
      const retransmit = (interval: number): void => {
        cancelRetransmit = this.#io.setTimer(() => {
          this.#io.send(text, to);
          // Timer A doubles until a provisional response stops it; timer E caps at T2, and after a
          // provisional response repeats every T2.
          retransmit(
            parts.method === "INVITE" ? interval * 2 : provisional ? T2_MS : Math.min(interval * 2, T2_MS),
          );
        }, interval);
      };
      const timeout = (ms: number): (() => void) =>
        this.#io.setTimer(() => {
          pending.stop();
          reject(new SipTimeoutError(parts.method));
        }, ms);
      let cancelTimeout = timeout(TRANSACTION_TIMEOUT_MS);
      const pending: Pending = {
        branch,
        method: parts.method,
        to,
        fail: (error) => {
          pending.stop();
          reject(error);
        },
        onResponse: (r) => {
          if (r.status < 200) {
            if (parts.method === "INVITE" && !provisional) {
              // Timer B ends at the first provisional response; a phone may ring for minutes (timer C).
              cancelRetransmit?.();
              cancelTimeout();
              cancelTimeout = timeout(INVITE_RINGING_MS);
            }
            provisional = true;
            onProvisional(r);
            return;
          }
          pending.stop();
          resolve(r);
        },
        stop: () => {
          cancelRetransmit?.();
          cancelTimeout();
          this.#pending.delete(`${branch}|${parts.method}`);
        },
      };
      this.#pending.set(`${branch}|${parts.method}`, pending);
      this.#io.send(text, to);
      if (!reliable(to)) retransmit(T1_MS);
    });
  }

  /**
   * The TCP or TLS connection to `to` failed: its requests fail now rather than at timer B or F
   * (over UDP there is no such signal, and nothing is failed).
   */
  transportFailed(to: SipSource): void {
    for (const p of [...this.#pending.values()])
      if (p.to.transport === to.transport && p.to.address === to.address && p.to.port === to.port)
        p.fail(new SipTransportFailedError(p.method));
  }

  /** A response arrived: true if it belonged to a request of ours. */
  receive(r: SipResponse): boolean {
    const branch = r.via[0]?.branch;
    const pending = branch ? this.#pending.get(`${branch}|${r.cseq.method}`) : undefined;
    if (!pending) return false;
    pending.onResponse(r);
    return true;
  }

  stop(): void {
    for (const p of [...this.#pending.values()]) p.stop();
  }
}
