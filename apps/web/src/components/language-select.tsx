import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { LanguagePreference } from "../i18n/language.ts";

/** Chooses the app's language; each language is named in itself so anyone can find theirs. */
export function LanguageSelect({ id }: { id?: string }): ReactNode {
  const { t, preference, setPreference } = useI18n();
  return (
    <select
      id={id}
      className="select"
      data-testid="language-select"
      aria-label={id ? undefined : t("settings.language")}
      value={preference}
      onChange={(e) => setPreference(e.target.value as LanguagePreference)}
    >
      <option value="system">{t("settings.language.system")}</option>
      <option value="ko" lang="ko">
        한국어
      </option>
      <option value="en" lang="en">
        English
      </option>
    </select>
  );
}
