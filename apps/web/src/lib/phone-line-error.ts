import { SdkError } from "@sori/sdk";
import type { MessageKey } from "../i18n/message-key.ts";
import { errorMessageKey } from "./error-message.ts";

/** The sentence (key and its values) for a failed phone-line add, and the gateway's own reason if it gave one. */
export type PhoneLineFailure = {
  key: MessageKey;
  vars: Record<string, string | number>;
  /** Why the gateway refused, in its own words (shown quoted: it is the gateway operator's text). */
  reason?: string;
};

/**
 * Translates what `phoneLines.add` threw. The SDK's messages are English for developers, so only the
 * code and details are used; a refusal carries the gateway's own reason in `details.reason`.
 */
export function phoneLineFailure(
  error: unknown,
  o: { gateway: string; name: string; lines: number; maxLines: number },
): PhoneLineFailure {
  const vars = { gateway: o.gateway, name: o.name, max: o.maxLines };
  if (!(error instanceof SdkError)) return { key: errorMessageKey(error), vars };
  switch (error.code) {
    case "timeout":
      return { key: "lines.error.timeout", vars };
    case "forbidden": {
      const reason = error.details.reason?.trim();
      return { key: "lines.error.forbidden", vars, ...(reason ? { reason } : {}) };
    }
    case "not-a-gateway":
      return { key: "lines.error.notGateway", vars };
    case "conflict":
      return { key: "lines.error.conflict", vars };
    case "bad-request":
      // Too many lines carries the limit; otherwise the gateway named a group chat, not an account
      // (the form checks the name itself).
      return {
        key: error.details.limit !== undefined ? "lines.error.tooMany" : "lines.error.notGateway",
        vars,
      };
    case "unknown-user":
      return { key: "lines.error.unknownGateway", vars };
    default:
      return { key: errorMessageKey(error), vars };
  }
}
