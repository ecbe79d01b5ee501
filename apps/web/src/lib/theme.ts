import type { ThemePreference } from "./preferences.ts";

const darkQuery = (): MediaQueryList => window.matchMedia("(prefers-color-scheme: dark)");
let followSystem: (() => void) | undefined;

/**
 * Sets `data-theme` on <html> to "light" or "dark". For "system" it follows the system setting, live,
 * so the dark palette is written once in CSS (under [data-theme="dark"]) rather than twice.
 */
export function applyTheme(preference: ThemePreference): void {
  const html = document.documentElement;
  if (followSystem) darkQuery().removeEventListener("change", followSystem);
  followSystem = undefined;
  if (preference !== "system") {
    html.dataset.theme = preference;
    return;
  }
  followSystem = (): void => {
    html.dataset.theme = darkQuery().matches ? "dark" : "light";
  };
  followSystem();
  darkQuery().addEventListener("change", followSystem);
}
