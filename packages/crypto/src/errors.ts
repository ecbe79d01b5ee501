import type { CredentialCheck } from "./credential-check.ts";
import { CryptoError, type CryptoErrorCode } from "./types.ts";

/**
 * Turns whatever ts-mls (or WebCrypto underneath it) threw into a CryptoError. ts-mls error messages
 * are fixed strings and WebCrypto's never echo key bytes, so quoting them is safe and helps debugging.
 */
export function toCryptoError(
  error: unknown,
  operation: string,
  fallback: CryptoErrorCode,
  credentials?: CredentialCheck,
): CryptoError {
  if (error instanceof CryptoError) return error;
  if (credentials?.validatorError !== undefined) {
    return new CryptoError("internal", `${operation}: the credential validator failed`, {
      cause: credentials.validatorError,
    });
  }
  if (credentials?.rejected === true) {
    return new CryptoError("invalid-credential", `${operation}: a credential was rejected`, {
      cause: error,
      refused: credentials.refused,
    });
  }
  const name = error instanceof Error ? error.name : "";
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
  let code: CryptoErrorCode = fallback;
  if (name === "CodecError") code = "malformed";
  // AES-GCM/HPKE open failures surface as DOMException "OperationError" or ts-mls's own CryptoError;
  // bad signatures or confirmation tags as CryptoVerificationError. All mean "not for our keys".
  else if (name === "OperationError" || name === "CryptoVerificationError" || name === "CryptoError") {
    code = "decrypt-failed";
  } else if (name === "InternalError" || name === "DependencyError") code = "internal";
  return new CryptoError(code, `${operation}: ${detail}`, { cause: error });
}
