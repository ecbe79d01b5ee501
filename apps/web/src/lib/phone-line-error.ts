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
 * code is used, except for a refusal: the gateway's reason is the one thing the person needs there,
 * and the SDK carries it after "refused the line: ".
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
      const reason = /refused the line: (.+)$/s.exec(error.message)?.[1]?.trim();
      return { key: "lines.error.forbidden", vars, ...(reason ? { reason } : {}) };
    }
    case "conflict":
      return { key: "lines.error.conflict", vars };
    case "bad-request":
      // The SDK says bad-request for a bad name, too many lines, and a gateway that is a group chat;
      // the form checks the name itself, so the count tells the other two apart.
      return { key: o.lines >= o.maxLines ? "lines.error.tooMany" : "lines.error.notGateway", vars };
    case "unknown-user":
      return { key: "lines.error.unknownGateway", vars };
    default:
      return { key: errorMessageKey(error), vars };
  }
}
