import type { MessageKey } from "../i18n/message-key.ts";

// The shape of I18n["t"], spelled out so this file stays plain .ts (the root tsconfig has no JSX).
type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

const LONG: Record<number, MessageKey> = {
  0: "timer.0",
  30: "timer.30",
  300: "timer.300",
  3600: "timer.3600",
  86_400: "timer.86400",
  604_800: "timer.604800",
};

const SHORT: Record<number, MessageKey> = {
  30: "timer.short.30",
  300: "timer.short.300",
  3600: "timer.short.3600",
  86_400: "timer.short.86400",
  604_800: "timer.short.604800",
};

/** A disappearing-message timer in words ("5 minutes"); another client may have set a value the app does not offer. */
export function timerLabel(seconds: number, t: Translate): string {
  const key = LONG[seconds];
  return key ? t(key) : t("timer.custom", { seconds });
}

/** The compact form for the chat header ("5 min"). */
export function timerShortLabel(seconds: number, t: Translate): string {
  const key = SHORT[seconds];
  return key ? t(key) : t("timer.custom", { seconds });
}
