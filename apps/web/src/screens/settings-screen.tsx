import { type ReactNode, useId, useState } from "react";
import { ConfirmAction } from "../components/confirm-action.tsx";
import { Icon } from "../components/icon.tsx";
import { LanguageSelect } from "../components/language-select.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { loadThemePreference, saveThemePreference, type ThemePreference } from "../lib/preferences.ts";
import { applyTheme } from "../lib/theme.ts";
import type { SessionController } from "../session/session-controller.ts";
import { DevicesSection } from "./devices-section.tsx";
import { PhoneLinesSection } from "./phone-lines-section.tsx";
import { PrivacySection } from "./privacy-section.tsx";
import { ProfileSection } from "./profile-section.tsx";
import { IconButton } from "../components/icon-button.tsx";
import "./settings-section.css";

const THEMES: ThemePreference[] = ["system", "light", "dark"];
const THEME_LABELS: Record<ThemePreference, MessageKey> = {
  system: "settings.theme.system",
  light: "settings.theme.light",
  dark: "settings.theme.dark",
};

/** Profile, language, theme, devices, phone lines, and signing out. */
export function SettingsScreen({ session }: { session: SessionController }): ReactNode {
  const { t } = useI18n();
  const { showToast } = useToast();
  const [theme, setTheme] = useState<ThemePreference>(loadThemePreference);
  const [signingOut, setSigningOut] = useState(false);
  const ids = { lang: useId(), theme: useId() };

  const chooseTheme = (value: ThemePreference): void => {
    setTheme(value);
    saveThemePreference(value);
    applyTheme(value);
  };

  const signOut = async (): Promise<void> => {
    setSigningOut(true);
    try {
      await session.signOut();
      navigate({ name: "list" });
    } catch (err) {
      showToast(t(errorMessageKey(err)));
      setSigningOut(false);
    }
  };

  return (
    <section className="pane" aria-label={t("settings.title")} data-testid="settings">
      <header className="pane-header">
        <IconButton
          icon="back"
          label={t("chat.backToList")}
          className="back-button"
          onClick={() => navigate({ name: "list" })}
        />
        <div className="pane-title">
          <h2>{t("settings.title")}</h2>
        </div>
      </header>
      <div className="pane-scroll">
        <ProfileSection />

        <section className="settings-section">
          <h3>{t("settings.appearance")}</h3>
          <div className="setting-row">
            <label htmlFor={ids.lang}>{t("settings.language")}</label>
            <LanguageSelect id={ids.lang} />
          </div>
          <div className="setting-row">
            <span id={ids.theme}>{t("settings.theme")}</span>
            <div className="segmented small" role="radiogroup" aria-labelledby={ids.theme}>
              {THEMES.map((value) => (
                <button
                  key={value}
                  type="button"
                  role="radio"
                  aria-checked={theme === value}
                  data-testid={`theme-${value}`}
                  onClick={() => chooseTheme(value)}
                >
                  {t(THEME_LABELS[value])}
                </button>
              ))}
            </div>
          </div>
        </section>

        <PrivacySection />

        <DevicesSection />

        <PhoneLinesSection />

        <section className="settings-section">
          <h3>{t("settings.account")}</h3>
          <p className="muted with-icon">
            <Icon name="lock" size={16} />
            <span>{t("settings.e2ee")}</span>
          </p>
          <ConfirmAction
            label={t("settings.signOut")}
            prompt={t("settings.signOutConfirm")}
            busy={signingOut}
            busyLabel={t("settings.signingOut")}
            onConfirm={() => void signOut()}
            testId="sign-out"
          />
        </section>
      </div>
    </section>
  );
}
