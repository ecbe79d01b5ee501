import { type ChatSummary, TIMER_CHOICES } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { timerLabel } from "../lib/timer-label.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import "./timer-dialog.css";

/** Chooses the chat's disappearing-message timer; the SDK announces the change to every member. */
export function TimerDialog({ chat, onClose }: { chat: ChatSummary; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const choose = (seconds: number): void => {
    if (seconds === chat.timer) {
      onClose();
      return;
    }
    setBusy(true);
    setError(null);
    client
      .setTimer(chat.id, seconds)
      .then(() => onClose())
      .catch((e: unknown) => {
        setError(t(errorMessageKey(e)));
        setBusy(false);
      });
  };

  return (
    <Dialog title={t("timer.title")} onClose={onClose} testId="timer-dialog">
      <p className="muted">{t("timer.hint")}</p>
      <div className="choice-list" role="radiogroup" aria-label={t("timer.title")}>
        {TIMER_CHOICES.map((seconds) => (
          <button
            key={seconds}
            type="button"
            role="radio"
            className="choice"
            aria-checked={chat.timer === seconds}
            data-testid={`timer-${seconds}`}
            disabled={busy}
            onClick={() => choose(seconds)}
          >
            {timerLabel(seconds, t)}
          </button>
        ))}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
