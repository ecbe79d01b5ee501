import type { Enqueued, OutgoingMessage, SendOutcome, Store } from "./store.ts";
import { queuedDelivery } from "./queued-delivery.ts";
import { StoreError, type StoreErrorCode } from "./store-error.ts";

/** One Store method call sent to the store thread. */
export type StoreCall = { id: number; method: keyof Store; args: unknown[] };

/** An error as it crosses the thread boundary (structured clone drops classes). */
export type SerializedError = {
  name: string;
  message: string;
  code?: string;
  cause?: string;
  limit?: number;
};

export type StoreReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof StoreError) {
    // The cause is kept as text only: it is for the server log (SQLite's message), not for clients.
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      ...(cause ? { cause } : {}),
      ...(error.limit === undefined ? {} : { limit: error.limit }),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** StoreErrors come back as StoreErrors (callers branch on their code); anything else as a plain Error. */
export function deserializeError(e: SerializedError): Error {
  if (e.name === "StoreError" && e.code !== undefined) {
    return new StoreError(e.code as StoreErrorCode, e.message, {
      ...(e.cause === undefined ? {} : { cause: new Error(e.cause) }),
      ...(e.limit === undefined ? {} : { limit: e.limit }),
    });
  }
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

/**
 * An accepted message's deliveries repeat the message the call carried (SqliteStore enqueues it as
 * is): only each recipient's device and seq cross back, and the main thread rebuilds the deliveries
 * from its own copy. Cloning the bytes and ids back for every recipient was a good part of the main
 * thread's share of a send.
 */
type PackedSend = { status: "accepted"; sentAt: number; packed: (string | number)[] };

/** In the store thread: the reply value for a call, compacted where the caller already has the data. */
export function packReply(method: StoreCall["method"], value: unknown): unknown {
  if (method !== "acceptMessage") return value;
  const outcome = value as SendOutcome;
  if (outcome.status !== "accepted") return value;
  const packed: (string | number)[] = [];
  for (const { deviceId, delivery } of outcome.enqueued) packed.push(deviceId, delivery.seq);
  return { status: "accepted", sentAt: outcome.sentAt, packed } satisfies PackedSend;
}

/** In the main thread: the inverse of packReply, given the arguments of the call. */
export function unpackReply(method: StoreCall["method"], args: unknown[], value: unknown): unknown {
  if (method !== "acceptMessage" || (value as { packed?: unknown }).packed === undefined) return value;
  const { sentAt, packed } = value as PackedSend;
  const m = args[0] as Omit<OutgoingMessage, "recipients">;
  const enqueued: Enqueued = [];
  for (let i = 0; i < packed.length; i += 2) {
    enqueued.push({ deviceId: packed[i] as string, delivery: queuedDelivery(m, packed[i + 1] as number) });
  }
  return { status: "accepted", sentAt, enqueued } satisfies SendOutcome;
}

/**
 * A turn's calls as they cross to the store thread. The two calls every message makes (acceptMessage
 * and ack) travel as runs of primitives in `flat` with the ciphertexts copied into one transferred
 * buffer; structured clone of one object per call (its keys written out each time, an ArrayBuffer per
 * ciphertext) cost the main thread about twice as much (docs/BENCHMARKS.md, "the disk off the writer's path"). Every other
 * call is cloned as is, in `others`; `flat` keeps the order of all of them.
 */
export type PackedCalls = { flat: (string | number | null)[]; bytes: ArrayBuffer; others: StoreCall[] };

const SEND = 0;
const ACK = 1;
const OTHER = 2;

type AcceptArg = Omit<OutgoingMessage, "recipients">;

/** Only plain messages take the compact form; ones with attachments go as ordinary calls. */
function compactSend(call: StoreCall): AcceptArg | undefined {
  if (call.method !== "acceptMessage") return undefined;
  const m = call.args[0] as AcceptArg;
  return m.blobs === undefined && m.blobsExpireAt === undefined ? m : undefined;
}

export function packCalls(calls: StoreCall[]): PackedCalls {
  const flat: (string | number | null)[] = [];
  const others: StoreCall[] = [];
  const compact = calls.map(compactSend);
  let size = 0;
  for (const m of compact) size += m?.data?.length ?? 0;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const [i, call] of calls.entries()) {
    const m = compact[i];
    if (m) {
      const length = m.data === null ? -1 : m.data.length;
      if (m.data !== null) bytes.set(m.data, offset);
      // Eleven entries after the tag, read back by position in unpackCalls.
      flat.push(SEND, call.id, m.kind, m.groupId, m.messageId, m.senderUserId, m.senderDeviceId);
      flat.push(m.epoch, m.sentAt, m.expiresAt ?? null, offset, length);
      offset += Math.max(length, 0);
    } else if (call.method === "ack") {
      flat.push(ACK, call.id, call.args[0] as string, call.args[1] as number);
    } else {
      flat.push(OTHER);
      others.push(call);
    }
  }
  return { flat, bytes: bytes.buffer, others };
}

/** In the store thread: the calls of packCalls, in their order. */
export function unpackCalls({ flat, bytes, others }: PackedCalls): StoreCall[] {
  const calls: StoreCall[] = [];
  let other = 0;
  for (let i = 0; i < flat.length;) {
    const tag = flat[i++];
    if (tag === SEND) {
      const offset = flat[i + 9] as number;
      const length = flat[i + 10] as number;
      const message: AcceptArg = {
        kind: flat[i + 1] as AcceptArg["kind"],
        groupId: flat[i + 2] as string | null,
        messageId: flat[i + 3] as string,
        senderUserId: flat[i + 4] as string,
        senderDeviceId: flat[i + 5] as string,
        epoch: flat[i + 6] as number | null,
        data: length === -1 ? null : new Uint8Array(bytes, offset, length),
        sentAt: flat[i + 7] as number,
      };
      const expiresAt = flat[i + 8] as number | null;
      if (expiresAt !== null) message.expiresAt = expiresAt;
      calls.push({ id: flat[i] as number, method: "acceptMessage", args: [message] });
      i += 11;
    } else if (tag === ACK) {
      calls.push({ id: flat[i] as number, method: "ack", args: [flat[i + 1], flat[i + 2]] });
      i += 3;
    } else {
      calls.push(others[other++]!);
    }
  }
  return calls;
}

/** A turn's replies as they cross back; like PackedCalls, the frequent shapes go as primitives. */
export type PackedReplies = { flat: (string | number)[]; others: StoreReply[] };

const NUMBER = 0;
const SENT = 1;

export function packReplies(replies: StoreReply[]): PackedReplies {
  const flat: (string | number)[] = [];
  const others: StoreReply[] = [];
  for (const r of replies) {
    const value = r.ok ? r.value : undefined;
    if (typeof value === "number") {
      // An ack's count, mostly.
      flat.push(NUMBER, r.id, value);
    } else if (typeof value === "object" && value !== null && "packed" in value) {
      const { sentAt, packed } = value as PackedSend;
      flat.push(SENT, r.id, sentAt, packed.length);
      // A loop, not a spread: a group of tens of thousands of devices would overflow the call stack.
      for (const x of packed) flat.push(x);
    } else {
      flat.push(OTHER);
      others.push(r);
    }
  }
  return { flat, others };
}

/** In the main thread: the replies of packReplies, in their order. */
export function unpackReplies({ flat, others }: PackedReplies): StoreReply[] {
  const replies: StoreReply[] = [];
  let other = 0;
  for (let i = 0; i < flat.length;) {
    const tag = flat[i++];
    if (tag === NUMBER) {
      replies.push({ id: flat[i] as number, ok: true, value: flat[i + 1] });
      i += 2;
    } else if (tag === SENT) {
      const n = flat[i + 2] as number;
      const value: PackedSend = {
        status: "accepted",
        sentAt: flat[i + 1] as number,
        packed: flat.slice(i + 3, i + 3 + n),
      };
      replies.push({ id: flat[i] as number, ok: true, value });
      i += 3 + n;
    } else {
      replies.push(others[other++]!);
    }
  }
  return replies;
}
