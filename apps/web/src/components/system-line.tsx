import type { ChatMessage } from "@sori/sdk";
import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { isWarningEvent, systemEventText } from "../lib/system-event-text.ts";
import { useConversationSafety } from "./conversation-safety-context.ts";
import { Icon, type IconName } from "./icon.tsx";
import "./system-line.css";

/**
 * A line in the chat that nobody wrote: a timer change, a contact request or its answer, a contact's safety number changing (with
 * "View safety number" and, while the change is not accepted, "Accept"), a device the server tried to
 * slip in, messages that went missing or came out of order.
 */
function iconOf(event: NonNullable<ChatMessage["system"]>["event"]): IconName {
  if (event === "timer") return "timer";
  if (event === "identity-accepted") return "shieldCheck";
  return event === "contact" ? "group" : "warning";
}

export function SystemLine({ message: m }: { message: ChatMessage }): ReactNode {
  const { t } = useI18n();
  const safety = useConversationSafety();
  const ev = m.system;
  if (!ev) return null;
  const warning = isWarningEvent(ev);
  const about =
    ev.event === "identity-changed" || ev.event === "device-refused" || ev.event === "devices-changed"
      ? ev
      : null;
  const pending = ev.event === "identity-changed" && safety.changed.has(ev.userId);
  return (
    <div
      className={warning ? "system-line warning" : "system-line"}
      role={warning ? "alert" : "status"}
      data-testid="system-line"
      data-event={ev.event}
      data-message-id={m.id}
    >
      <Icon name={iconOf(ev.event)} size={14} />
      <span className="system-line-text">{systemEventText(ev, t, m.outgoing)}</span>
      {about && (
        <span className="system-line-actions">
          <button
            type="button"
            className="link-button"
            data-testid="system-safety"
            onClick={() => safety.openSafety(about.username)}
          >
            {ev.event === "devices-changed" ? t("safety.check") : t("safety.viewNumber")}
          </button>
          {pending && (
            <button
              type="button"
              className="link-button"
              data-testid="system-accept"
              aria-label={t("safety.acceptNamed", { name: about.username })}
              disabled={safety.accepting === about.username}
              onClick={() => safety.acceptChange(about.username)}
            >
              {t("safety.accept")}
            </button>
          )}
        </span>
      )}
    </div>
  );
}
