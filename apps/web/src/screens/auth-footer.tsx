import { type ReactNode, useId } from "react";
import { Icon } from "../components/icon.tsx";
import { LanguageSelect } from "../components/language-select.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";

/** The foot of the sign-in and waiting screens: the encryption note and the language choice. */
export function AuthFooter(): ReactNode {
  const { t } = useI18n();
  const lang = useId();
  return (
    <>
      <p className="auth-footnote muted">
        <Icon name="lock" size={16} />
        <span>{t("auth.e2ee")}</span>
      </p>
      <div className="auth-language">
        <label htmlFor={lang} className="muted">
          {t("settings.language")}
        </label>
        <LanguageSelect id={lang} />
      </div>
    </>
  );
}
