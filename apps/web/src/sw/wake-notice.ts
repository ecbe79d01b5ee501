// What the service worker shows for a wake-up. Pure (no worker globals), so the page's tests and the
// worker share it. The worker stays small: this is a hand-written check of the same rules as
// PushPayload (packages/protocol/src/push.ts) instead of bundling zod into the worker.
import { type Language, resolveLanguage, type LanguagePreference } from "../i18n/language.ts";

export type WakeKind = "message" | "call";

/** The longest payload taken: the server pads `{"kind":"message"}` to 32 bytes. */
const MAX_PAYLOAD_CHARS = 256;

/**
 * The kind of a decrypted push payload, or undefined for anything PushPayload refuses: not JSON, not
 * an object, another kind, or any other field (the schema is strict). Trailing padding is whitespace,
 * which JSON.parse ignores.
 */
export function parseWake(text: string): WakeKind | undefined {
  if (text.length > MAX_PAYLOAD_CHARS) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "kind") return undefined;
  const kind = (value as { kind: unknown }).kind;
  return kind === "message" || kind === "call" ? kind : undefined;
}

export type WakeNotice = {
  title: string;
  body: string;
  /** One notification per kind: a second wake-up of the same kind replaces the first. */
  tag: WakeKind;
  /** A call rings again (sound, vibration) even when a call notification is still shown. */
  renotify: boolean;
  requireInteraction: boolean;
};

const TEXT: Record<Language, Record<WakeKind, { title: string; body: string }>> = {
  en: {
    message: { title: "New message", body: "Open Sori to read it." },
    call: { title: "Incoming call", body: "Open Sori to answer." },
  },
  ko: {
    message: { title: "새 메시지", body: "Sori를 열어 확인하세요." },
    call: { title: "전화가 왔어요", body: "Sori를 열어 받으세요." },
  },
};

/** The notification for a wake-up: never content, sender or chat, which the worker does not know. */
export function wakeNotice(kind: WakeKind, language: Language): WakeNotice {
  const text = TEXT[language][kind];
  return { ...text, tag: kind, renotify: kind === "call", requireInteraction: kind === "call" };
}

/**
 * What the page leaves for the worker (which cannot read localStorage): the UI language the person
 * chose. Kept in Cache Storage, which both can read, under this cache and key.
 */
export const WORKER_SETTINGS_CACHE = "sori-settings";
export const WORKER_SETTINGS_KEY = "/__sori/worker-settings.json";

export type WorkerSettings = { language: LanguagePreference };

/** The language of a notification: the saved choice, else the browser's languages. */
export function noticeLanguage(saved: unknown, languages: readonly string[]): Language {
  const preference =
    typeof saved === "object" && saved !== null && "language" in saved
      ? (saved as { language: unknown }).language
      : null;
  return resolveLanguage(preference === "ko" || preference === "en" ? preference : "system", languages);
}
