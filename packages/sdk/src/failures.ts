import { CryptoError } from "@sori/crypto";
import { SdkError } from "./errors.ts";

/** The code of an SDK or crypto error, for warnings (which never carry content). */
export function codeOf(error: unknown): string {
  return error instanceof SdkError || error instanceof CryptoError ? error.code : "internal";
}

/** Failures that may pass (network, storage, a lookup that could not be made), as opposed to bad data. */
export function isTransient(error: unknown): boolean {
  if (error instanceof SdkError)
    return ["offline", "timeout", "storage", "closed", "storage-unavailable", "rate-limited"].includes(
      error.code,
    );
  if (error instanceof CryptoError) return error.code === "internal" && isTransient(error.cause);
  // Anything else (file-system errors, quota errors) comes from storage.
  return true;
}
