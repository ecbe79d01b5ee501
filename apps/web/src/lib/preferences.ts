import type { LanguagePreference } from "../i18n/language.ts";

export type ThemePreference = "system" | "light" | "dark";

const LANGUAGE_KEY = "sori.language";
const THEME_KEY = "sori.theme";

// localStorage can throw (disabled storage, private modes): preferences then simply do not persist.
function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Not persisting a display preference is harmless.
  }
}

export function loadLanguagePreference(): LanguagePreference {
  const v = read(LANGUAGE_KEY);
  return v === "ko" || v === "en" ? v : "system";
}

export function saveLanguagePreference(value: LanguagePreference): void {
  write(LANGUAGE_KEY, value);
}

export function loadThemePreference(): ThemePreference {
  const v = read(THEME_KEY);
  return v === "light" || v === "dark" ? v : "system";
}

export function saveThemePreference(value: ThemePreference): void {
  write(THEME_KEY, value);
}

// Per account: another account signed in on this browser may use another gateway.
const dialGatewayKey = (userId: string): string => `sori.dialGateway.${userId}`;

/** The gateway account this person last called a phone through, if any. */
export function loadDialGateway(userId: string): string | null {
  return read(dialGatewayKey(userId));
}

export function saveDialGateway(userId: string, gateway: string): void {
  write(dialGatewayKey(userId), gateway);
}
