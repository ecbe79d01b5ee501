import type { ChatMessage } from "@sori/sdk";
import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { timerLabel } from "../lib/timer-label.ts";
import { Icon } from "./icon.tsx";
import "./system-line.css";

/** A line in the chat that nobody wrote: a timer change, a member's devices changing. */
export function SystemLine({
  message: m,
  onOpenSafety,
}: {
  message: ChatMessage;
  onOpenSafety: (username: string) => void;
}): ReactNode {
  const { t } = useI18n();
  const ev = m.system;
  if (!ev) return null;
  if (ev.event === "timer") {
    const name = m.outgoing ? t("system.you") : ev.by;
    return (
      <div
        className="system-line"
        role="status"
        data-testid="system-line"
        data-event="timer"
        data-message-id={m.id}
      >
        <Icon name="timer" size={14} />
        <span>
          {ev.seconds === 0
            ? t("system.timerOff", { name })
            : t("system.timerSet", { name, value: timerLabel(ev.seconds, t) })}
        </span>
      </div>
    );
  }
  return (
    <div
      className="system-line warning"
      role="alert"
      data-testid="system-line"
      data-event="devices-changed"
      data-message-id={m.id}
    >
      <Icon name="warning" size={14} />
      <span>{t("system.devicesChanged", { name: ev.username })}</span>
      <button
        type="button"
        className="link-button"
        data-testid="system-safety"
        onClick={() => onOpenSafety(ev.username)}
      >
        {t("safety.check")}
      </button>
    </div>
  );
}
