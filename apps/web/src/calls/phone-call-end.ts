import type { CallEndReason } from "@sori/sdk";
import type { MessageKey } from "../i18n/message-key.ts";

/** The call screen's words for how a call to a phone ended, and a hint where the reason is not obvious. */
export type PhoneCallEnd = { status: MessageKey; hint?: MessageKey };

/**
 * A phone this person called through a gateway ended this way. The person-to-person words ("Alice is
 * on another call") do not fit a number, and a decline may come from the gateway itself before the
 * phone ever rang (this account may not call phones): the SDK cannot tell the two apart, so the hint
 * names both. Null for reasons whose ordinary words fit.
 */
export function phoneCallEnd(reason: CallEndReason | null): PhoneCallEnd | null {
  switch (reason) {
    case "declined":
      return { status: "call.phone.declined", hint: "call.phone.declinedHint" };
    case "busy":
      return { status: "call.phone.busy" };
    case "unreachable":
      return { status: "call.phone.unreachable", hint: "call.phone.unreachableHint" };
    default:
      return null;
  }
}

/** A call this person placed to a phone (a number or SIP address), not to a person's own phone line. */
export function isDialledPhoneCall(call: {
  direction: "incoming" | "outgoing";
  via: unknown;
  lineOwner: unknown;
}): boolean {
  return call.direction === "outgoing" && call.via !== undefined && call.lineOwner === undefined;
}
