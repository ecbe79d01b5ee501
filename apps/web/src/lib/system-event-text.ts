import type { SystemEvent } from "@sori/sdk";
import type { MessageKey } from "../i18n/message-key.ts";
import { timerLabel } from "./timer-label.ts";

// The shape of I18n["t"], spelled out so this file stays plain .ts (unit tests run it in Node).
type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/**
 * Events that say something may be wrong (a changed key, a refused device, lost or reordered
 * messages): shown as warnings, not as the muted line of a timer change.
 */
const WARNINGS: ReadonlySet<SystemEvent["event"]> = new Set([
  "devices-changed",
  "identity-changed",
  "device-refused",
  "rejoined",
  "messages-missing",
  "reordered",
]);

/** Whether a system line is a warning. */
export function isWarningEvent(event: SystemEvent): boolean {
  return WARNINGS.has(event.event);
}

/**
 * The sentence of a line the SDK wrote into a chat, for the chat itself and the chat list's preview.
 * People are named by username, not display name: anyone can call themselves anything, and these
 * lines are about who someone really is. `outgoing` marks a timer this person set themselves.
 */
export function systemEventText(event: SystemEvent, t: Translate, outgoing = false): string {
  switch (event.event) {
    case "timer": {
      const name = outgoing ? t("system.you") : event.by;
      return event.seconds === 0
        ? t("system.timerOff", { name })
        : t("system.timerSet", { name, value: timerLabel(event.seconds, t) });
    }
    case "devices-changed":
      return t("system.devicesChanged", { name: event.username });
    case "identity-changed":
      return t("system.identityChanged", { name: event.username });
    case "identity-accepted":
      return t("system.identityAccepted", { name: event.username });
    case "device-refused":
      return t("system.deviceRefused", { name: event.username });
    case "rejoined":
      return t("system.rejoined");
    case "messages-missing":
      return t(event.count === 1 ? "system.messagesMissing.one" : "system.messagesMissing.other", {
        name: event.username,
        count: event.count,
      });
    case "reordered":
      return t("system.reordered", { name: event.username });
    case "contact":
      return t(contactKey(event), { name: event.username });
  }
}

function contactKey(e: Extract<SystemEvent, { event: "contact" }>): MessageKey {
  const them = e.by === "them";
  switch (e.state) {
    case "asked-me":
      return "system.contact.askedMe";
    case "asked-them":
      return "system.contact.askedThem";
    case "accepted":
      return them ? "system.contact.acceptedByThem" : "system.contact.acceptedByMe";
    case "declined":
      return them ? "system.contact.declinedByThem" : "system.contact.declinedByMe";
    case "none":
      return them ? "system.contact.endedByThem" : "system.contact.endedByMe";
  }
}
