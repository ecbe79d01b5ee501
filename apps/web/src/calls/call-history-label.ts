import type { CallEntry } from "@sori/sdk";
import type { MessageKey } from "../i18n/message-key.ts";

/** `t()` of the i18n context (a .ts module cannot import the .tsx context under the Node typecheck). */
type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** "3:05" or "1:02:03": a call's length. */
export function formatDuration(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * How a call reads in the history and the chat list: "Outgoing voice call · 3:05", "Missed video call",
 * "Incoming voice call · Declined".
 */
export function callHistoryLabel(entry: CallEntry, t: Translate): string {
  if (entry.missed && entry.outcome !== "declined") return t(`history.missed.${entry.media}`);
  const kind = t(`history.${entry.direction}.${entry.media}`);
  const detail =
    entry.outcome === "answered" ? formatDuration(entry.durationS) : t(`history.outcome.${entry.outcome}`);
  return t("history.entry", { kind, detail });
}
