import type { ErrorCode, ErrorDetails } from "@sori/protocol";

export type SdkErrorCode =
  | ErrorCode
  | "offline"
  | "timeout"
  | "unknown-user"
  | "unknown-chat"
  | "not-logged-in"
  | "crypto"
  | "storage"
  | "conflict"
  | "closed"
  /** A member's account key changed: compare the safety number and accept the change before sending. */
  | "identity-changed"
  /** This device was refused (or signed out) while it waited for approval. */
  | "approval-rejected"
  /** This device missed a change to the chat and waits to be re-added by another member. */
  | "out-of-sync"
  /** A phone line was asked of an account the directory does not mark as a gateway. */
  | "not-a-gateway"
  /** A contact request was accepted or declined that the other person never made. */
  | "not-asked";

/** Every failure the SDK reports: a code to branch on and a message fit to show a person. */
export class SdkError extends Error {
  readonly code: SdkErrorCode;
  readonly details: ErrorDetails;
  constructor(
    code: SdkErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SdkError";
    this.code = code;
    this.details = details;
  }
}
