export type StoreErrorCode =
  | "unavailable"
  /** The disk or the configured database size cap is full: nothing of the failed write was kept. */
  | "full"
  | "closed"
  | "schema-too-new"
  | "unknown-device"
  | "limit";

/** A failure of the storage layer. `unavailable` means nothing of the failed write was kept. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}
