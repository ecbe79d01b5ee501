import { ProtocolError } from "@sori/protocol";
import type { Logger } from "./logger.ts";
import { StoreError } from "./store/store-error.ts";

/** How long a client should wait before retrying a request the storage refused. */
const STORAGE_RETRY_S = 5;

/**
 * What the client is told when a request fails, on HTTP and WebSocket alike: a ProtocolError as it is,
 * a StoreError by its code (the one place that maps them), anything else as "internal". Storage and
 * internal failures are logged (codes and names only, never content); the client learns only that
 * nothing of its request was kept.
 */
export function toProtocolError(error: unknown, log: Logger, request: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof StoreError) {
    switch (error.code) {
      case "unknown-device":
        return new ProtocolError("bad-request", "a named device does not exist");
      case "limit":
        return new ProtocolError(
          "too-large",
          error.message,
          error.limit === undefined ? {} : { limit: error.limit },
        );
      default:
        log.error("store.failed", {
          code: error.code,
          request,
          cause: String((error.cause as Error | undefined)?.message),
        });
        return new ProtocolError(
          "storage-unavailable",
          error.code === "full"
            ? "the server's storage is full; nothing was changed, retry later"
            : "the server could not store this; nothing was changed, retry later",
          { retryAfterS: STORAGE_RETRY_S },
        );
    }
  }
  log.error("request.failed", { request, error: error instanceof Error ? error.name : "unknown" });
  return new ProtocolError("internal", "internal server error");
}
