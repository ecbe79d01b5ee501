export type StoreErrorCode =
  | "unavailable"
  /** The disk or the configured database size cap is full: nothing of the failed write was kept. */
  | "full"
  | "closed"
  | "schema-too-new"
  | "unknown-device"
  /** A per-device cap was reached (`limit` says which number); nothing of the write was kept. */
  | "limit";

/** A failure of the storage layer. `unavailable` means nothing of the failed write was kept. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** For code "limit": the cap that was reached. */
  readonly limit: number | undefined;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; limit?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StoreError";
    this.code = code;
    this.limit = options?.limit;
  }
}
