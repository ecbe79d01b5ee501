import type { Store } from "./store.ts";
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
