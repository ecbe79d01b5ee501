import type { ThemePreference } from "./preferences.ts";

/** Sets the theme on <html>; "system" removes the attribute so the CSS follows prefers-color-scheme. */
export function applyTheme(preference: ThemePreference): void {
  const html = document.documentElement;
  if (preference === "system") delete html.dataset.theme;
  else html.dataset.theme = preference;
}
