/** The languages the app is translated into. Korean is first-class, not a fallback. */
export type Language = "ko" | "en";

/** What the person chose in settings; "system" follows the browser. */
export type LanguagePreference = "system" | Language;

/** Picks the first supported language from the browser's list (navigator.languages), else English. */
function browserLanguage(languages: readonly string[]): Language {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "ko") return "ko";
    if (base === "en") return "en";
  }
  return "en";
}

export function resolveLanguage(preference: LanguagePreference, languages: readonly string[]): Language {
  return preference === "system" ? browserLanguage(languages) : preference;
}
