import type { PhoneLineSettings } from "@sori/sdk";
import type { ReactNode } from "react";
import { Dialog } from "../components/dialog.tsx";
import { Icon } from "../components/icon.tsx";
import { IconButton } from "../components/icon-button.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import "./phone-lines-section.css";

const FIELDS: { key: keyof Omit<PhoneLineSettings, "line">; label: MessageKey }[] = [
  { key: "aor", label: "lines.aor" },
  { key: "registrar", label: "lines.registrar" },
  { key: "authUser", label: "lines.authUser" },
  { key: "password", label: "lines.password" },
];

/**
 * What a new phone is configured with, shown once: the SDK keeps no copy of the password (the gateway
 * keeps only digests of it), so closing this is the end of it; the phone can be removed and added again.
 */
export function PhoneLineSettingsDialog({
  settings,
  onClose,
}: {
  settings: PhoneLineSettings;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { showToast } = useToast();

  const copy = (label: string, value: string): void => {
    navigator.clipboard
      .writeText(value)
      .then(() => showToast(t("lines.copied", { field: label })))
      .catch(() => showToast(t("lines.copyFailed")));
  };

  return (
    <Dialog
      title={t("lines.settingsTitle", { name: settings.line.name })}
      onClose={onClose}
      testId="phone-line-settings"
    >
      <p className="muted small-text">{t("lines.settingsIntro")}</p>
      <dl className="line-settings">
        {FIELDS.map(({ key, label }) => (
          <div key={key} className="line-setting">
            <dt>{t(label)}</dt>
            <dd>
              <code data-testid={`line-setting-${key}`}>{settings[key]}</code>
              <IconButton
                icon="copy"
                label={t("lines.copy", { field: t(label) })}
                data-testid={`line-copy-${key}`}
                onClick={() => copy(t(label), settings[key])}
              />
            </dd>
          </div>
        ))}
      </dl>
      <p className="notice line-once" role="note" data-testid="line-password-once">
        <Icon name="alert" size={16} /> {t("lines.passwordOnce")}
      </p>
      <p className="muted small-text with-icon line-e2ee" data-testid="line-e2ee-note">
        <Icon name="lock" size={16} />
        <span>{t("lines.e2eeNote", { gateway: settings.line.gateway.username })}</span>
      </p>
      <div className="dialog-actions">
        <button type="button" className="button primary" data-testid="line-settings-done" onClick={onClose}>
          {t("lines.done")}
        </button>
      </div>
    </Dialog>
  );
}
