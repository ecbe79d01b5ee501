import { SdkError } from "@sori/sdk";
import type { MessageKey } from "../i18n/message-key.ts";

/**
 * The sentence to show a person for a failure. SDK messages are English and written for developers,
 * so the app translates by error code and never shows them.
 */
export function errorMessageKey(error: unknown): MessageKey {
  if (!(error instanceof SdkError)) return "error.generic";
  switch (error.code) {
    case "auth-failed":
      return "error.authFailed";
    case "username-taken":
      return "error.usernameTaken";
    case "unknown-user":
      return "error.unknownUser";
    case "offline":
      return "error.offline";
    case "timeout":
      return "error.timeout";
    case "rate-limited":
    case "too-many-connections":
      return "error.rateLimited";
    case "too-large":
      return "error.tooLarge";
    case "unknown-chat":
    case "not-found":
      return "error.unknownChat";
    case "not-member":
    case "forbidden":
      return "error.notMember";
    case "unauthenticated":
      return "error.signedOut";
    case "client-too-old":
      return "error.clientTooOld";
    case "server-too-old":
      return "error.serverTooOld";
    case "storage":
      return "error.storage";
    case "storage-unavailable":
      return "error.serverStorage";
    case "identity-changed":
      return "error.identityChanged";
    case "approval-rejected":
      return "error.approvalRejected";
    case "approval-required":
      return "error.approvalRequired";
    case "out-of-sync":
      return "error.outOfSync";
    case "too-many-devices":
      return "error.tooManyDevices";
    default:
      return "error.generic";
  }
}
