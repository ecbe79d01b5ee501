import type { ReactNode } from "react";
import { Icon } from "../components/icon.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import "./dial-keypad.css";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"] as const;

/** Symbols are read out by name; a digit's own text is its name. */
const SPOKEN: Partial<Record<string, MessageKey>> = {
  "*": "dialer.key.star",
  "#": "dialer.key.hash",
  "+": "dialer.key.plus",
};

/**
 * A phone's keypad for touch screens (0–9, *, #, + and delete). Its buttons never take the focus
 * from the field on a pointer press, so a phone's on-screen keyboard does not open for each key.
 * Without `onBackspace` it is a call's DTMF keypad: twelve keys, no + and no delete.
 */
export function DialKeypad({
  onKey,
  onBackspace,
  disabled,
}: {
  onKey: (key: string) => void;
  onBackspace?: () => void;
  disabled: boolean;
}): ReactNode {
  const { t } = useI18n();
  const key = (k: string): ReactNode => {
    const spoken = SPOKEN[k];
    return (
      <button
        key={k}
        type="button"
        className="dial-key"
        data-testid={`dial-key-${k}`}
        aria-label={spoken ? t(spoken) : undefined}
        disabled={disabled}
        onPointerDown={(e) => e.preventDefault()}
        onClick={() => onKey(k)}
      >
        {k}
      </button>
    );
  };
  return (
    <div className="dial-keypad" role="group" aria-label={t("dialer.keypad")} data-testid="dial-keypad">
      {KEYS.map(key)}
      {onBackspace && key("+")}
      {onBackspace && <span aria-hidden="true" />}
      {onBackspace && (
        <button
          type="button"
          className="dial-key dial-backspace"
          data-testid="dial-backspace"
          aria-label={t("dialer.backspace")}
          title={t("dialer.backspace")}
          disabled={disabled}
          onPointerDown={(e) => e.preventDefault()}
          onClick={onBackspace}
        >
          <Icon name="backspace" size={22} />
        </button>
      )}
    </div>
  );
}
