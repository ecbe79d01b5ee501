import type { Enqueued, OutgoingMessage, SendOutcome, Store } from "./store.ts";
import { queuedDelivery } from "./queued-delivery.ts";
import { StoreError, type StoreErrorCode } from "./store-error.ts";

/** One Store method call sent to the store thread. */
export type StoreCall = { id: number; method: keyof Store; args: unknown[] };

/** An error as it crosses the thread boundary (structured clone drops classes). */
export type SerializedError = { name: string; message: string; code?: string; cause?: string };

export type StoreReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof StoreError) {
    // The cause is kept as text only: it is for the server log (SQLite's message), not for clients.
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return { name: error.name, message: error.message, code: error.code, ...(cause ? { cause } : {}) };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** StoreErrors come back as StoreErrors (callers branch on their code); anything else as a plain Error. */
export function deserializeError(e: SerializedError): Error {
  if (e.name === "StoreError" && e.code !== undefined) {
    const options = e.cause === undefined ? undefined : { cause: new Error(e.cause) };
    return new StoreError(e.code as StoreErrorCode, e.message, options);
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
