import type { MessageKey } from "../i18n/message-key.ts";

type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** What a bridged call's note says, and the name to show for the other side. */
export type CallLineFacts = {
  direction: "incoming" | "outgoing";
  /** The gateway account's username (the call's peer when a phone calls in). */
  gateway: string;
  /** The person whose own phone line is on the other end, by the name the app shows for them. */
  owner?: string;
  /** The line's name as its owner chose it ("desk"). */
  lineName?: string;
};

/**
 * "desk" → "desk phone", but a line its owner already called "Office phone" (or "사무실 전화") is not
 * made into "Office phone phone".
 */
export function phoneOfLine(t: Translate, lineName: string | undefined): string {
  const name = lineName?.trim() ?? "";
  if (!name) return t("call.linePhone", { line: "" }).trim();
  if (/(phone|전화|전화기)$/i.test(name)) return name;
  return t("call.linePhone", { line: name });
}

/**
 * The note on a call a gateway bridges: a person's own phone line names that person and the phone
 * (the gateway is only the way it came); any other phone call names the gateway. Each says the call
 * is not end-to-end encrypted all the way.
 */
export function callLineNote(t: Translate, facts: CallLineFacts): string {
  if (facts.owner === undefined) return t("call.viaGateway", { gateway: facts.gateway });
  const phone = phoneOfLine(t, facts.lineName);
  return facts.direction === "incoming"
    ? t("call.fromLine", { name: facts.owner, phone })
    : t("call.answeredOnLine", { name: facts.owner, phone });
}
