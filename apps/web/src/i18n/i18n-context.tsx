import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { loadLanguagePreference, saveLanguagePreference } from "../lib/preferences.ts";
import { en } from "./en.ts";
import { ko } from "./ko.ts";
import { type Language, type LanguagePreference, resolveLanguage } from "./language.ts";
import type { Dictionary, MessageKey, PluralKey } from "./message-key.ts";

type Vars = Record<string, string | number>;

export type I18n = {
  language: Language;
  preference: LanguagePreference;
  setPreference: (preference: LanguagePreference) => void;
  /** The translation of `key` with `{name}` placeholders filled from `vars`. */
  t: (key: MessageKey, vars?: Vars) => string;
  /** A counted phrase: `{count}` is filled in and the plural form fits the language. */
  tp: (key: PluralKey, count: number, vars?: Vars) => string;
};

const dictionaries: Record<Language, Dictionary> = { en, ko };

function fill(template: string, vars: Vars | undefined): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

const I18nContext = createContext<I18n | null>(null);

/** Provides the current language; follows the browser's languages unless the person chose one. */
export function I18nProvider({ children }: { children: ReactNode }): ReactNode {
  const [preference, setPreferenceState] = useState<LanguagePreference>(loadLanguagePreference);
  const [browserLanguages, setBrowserLanguages] = useState<readonly string[]>(() => navigator.languages);

  useEffect(() => {
    const update = (): void => setBrowserLanguages(navigator.languages);
    window.addEventListener("languagechange", update);
    return () => window.removeEventListener("languagechange", update);
  }, []);

  const language = resolveLanguage(preference, browserLanguages);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const setPreference = useCallback((p: LanguagePreference) => {
    saveLanguagePreference(p);
    setPreferenceState(p);
  }, []);

  const value = useMemo<I18n>(() => {
    const dict = dictionaries[language];
    const rules = new Intl.PluralRules(language);
    const t = (key: MessageKey, vars?: Vars): string => fill(dict[key], vars);
    const tp = (key: PluralKey, count: number, vars?: Vars): string => {
      const form = rules.select(count) === "one" ? "one" : "other";
      // PluralKey guarantees both forms exist; TypeScript cannot follow the template literal.
      const full = `${key}.${form}` as MessageKey;
      return fill(dict[full], { count, ...vars });
    };
    return { language, preference, setPreference, t, tp };
  }, [language, preference, setPreference]);

  return <I18nContext value={value}>{children}</I18nContext>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
