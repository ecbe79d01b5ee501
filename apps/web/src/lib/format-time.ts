import type { Language } from "../i18n/language.ts";

const DAY_MS = 86_400_000;

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** A key for grouping by local day. */
export function dayKey(ms: number): number {
  return startOfDay(ms);
}

/** "오후 3:07" / "3:07 PM": the time on a bubble. */
export function formatClock(ms: number, language: Language): string {
  return new Intl.DateTimeFormat(language, { hour: "numeric", minute: "2-digit" }).format(ms);
}

/** "2025년 11월 21일 금요일": the day separator in a conversation. */
export function formatDay(ms: number, language: Language): string {
  return new Intl.DateTimeFormat(language, { dateStyle: "full" }).format(ms);
}

/**
 * The time in the chat list: the clock today, "yesterday" (passed in translated), the month and day this
 * year, a short date before that.
 */
export function formatListTime(ms: number, now: number, language: Language, yesterday: string): string {
  const today = startOfDay(now);
  if (ms >= today) return formatClock(ms, language);
  if (ms >= today - DAY_MS) return yesterday;
  if (new Date(ms).getFullYear() === new Date(now).getFullYear())
    return new Intl.DateTimeFormat(language, { month: "short", day: "numeric" }).format(ms);
  return new Intl.DateTimeFormat(language, { dateStyle: "short" }).format(ms);
}

/** A date and time for the devices list. */
export function formatDateTime(ms: number, language: Language): string {
  return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" }).format(ms);
}
