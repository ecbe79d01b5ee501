import type { ClientSettings } from "@sori/sdk";
import { type ReactNode, useEffect, useId, useState } from "react";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./settings-section.css";
import "./privacy-section.css";

/** The settings a person switches on and off here (the others are for bridges, not people). */
type ToggleKey = "readReceipts" | "typingIndicators";
type Toggle = { key: ToggleKey; label: MessageKey; hint: MessageKey; testId: string };

const TOGGLES: Toggle[] = [
  {
    key: "readReceipts",
    label: "privacy.readReceipts",
    hint: "privacy.readReceiptsHint",
    testId: "setting-read-receipts",
  },
  { key: "typingIndicators", label: "privacy.typing", hint: "privacy.typingHint", testId: "setting-typing" },
];

function ToggleRow({
  toggle,
  checked,
  disabled,
  onChange,
}: {
  toggle: Toggle;
  checked: boolean;
  disabled: boolean;
  onChange: (on: boolean) => void;
}): ReactNode {
  const { t } = useI18n();
  const id = useId();
  return (
    <div className="setting-row toggle-row">
      <div>
        <label htmlFor={id}>{t(toggle.label)}</label>
        <p className="muted small" id={`${id}-hint`}>
          {t(toggle.hint)}
        </p>
      </div>
      <input
        id={id}
        type="checkbox"
        role="switch"
        className="switch"
        data-testid={toggle.testId}
        aria-describedby={`${id}-hint`}
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
      />
    </div>
  );
}

/** Read receipts and typing indicators: when switched off, this device does not send them. */
export function PrivacySection(): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [settings, setSettings] = useState<ClientSettings | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    client
      .settings()
      .then((s) => !cancelled && setSettings(s))
      .catch((e: unknown) => !cancelled && showToast(t(errorMessageKey(e))));
    return () => {
      cancelled = true;
    };
  }, [client, showToast, t]);

  // The switch moves at once; if saving fails it moves back and a toast says why.
  const change = (key: ToggleKey, on: boolean): void => {
    const before = settings;
    if (!before) return;
    setSettings({ ...before, [key]: on });
    setSaving(true);
    client
      .setSettings({ [key]: on })
      .then((next) => {
        setSettings(next);
        showToast(t("privacy.saved"));
      })
      .catch((e: unknown) => {
        setSettings(before);
        showToast(t(errorMessageKey(e)));
      })
      .finally(() => setSaving(false));
  };

  return (
    <section className="settings-section" data-testid="privacy-settings">
      <h3>{t("privacy.title")}</h3>
      {TOGGLES.map((toggle) => (
        <ToggleRow
          key={toggle.key}
          toggle={toggle}
          checked={settings?.[toggle.key] ?? true}
          disabled={!settings || saving}
          onChange={(on) => change(toggle.key, on)}
        />
      ))}
    </section>
  );
}
