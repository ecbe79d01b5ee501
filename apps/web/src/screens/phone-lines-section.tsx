import { USERNAME_PATTERN } from "@sori/protocol";
import { MAX_PHONE_LINES, type PhoneLine, type PhoneLineSettings } from "@sori/sdk";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { Icon } from "../components/icon.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { usePhoneLines } from "../hooks/use-phone-lines.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { phoneLineFailure } from "../lib/phone-line-error.ts";
import { useSignedIn } from "../session/client-context.ts";
import { PhoneLineSettingsDialog } from "./phone-line-settings-dialog.tsx";
import "./settings-section.css";
import "./phone-lines-section.css";

const MAX_NAME_CHARS = 32;

/**
 * Settings → Phone lines: this person's own SIP phones hosted by a gateway (they ring with this
 * person's devices and call as them), adding one (the gateway must answer, up to 20 s; its settings
 * are then shown once) and removing one (the gateway signs the phone out at once).
 */
export function PhoneLinesSection(): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const { lines, failed, reload } = usePhoneLines();
  const [adding, setAdding] = useState(false);
  const [settings, setSettings] = useState<PhoneLineSettings | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);

  const remove = async (line: PhoneLine): Promise<void> => {
    setRemoving(line.id);
    try {
      await client.phoneLines.remove(line.id);
      setConfirming(null);
      showToast(t("lines.removed", { name: line.name }));
      await reload();
    } catch (err) {
      showToast(t(errorMessageKey(err)));
    } finally {
      setRemoving(null);
    }
  };

  const row = (line: PhoneLine): ReactNode => (
    <li key={line.id} className="device-row line-row" data-testid="phone-line" data-line-name={line.name}>
      <Icon name="phone" size={20} />
      <span className="device-names">
        <span className="member-name">{line.name}</span>
        <span className="muted small-text">{t("lines.via", { gateway: line.gateway.username })}</span>
      </span>
      {confirming === line.id ? (
        <span
          className="line-confirm"
          role="alertdialog"
          aria-label={t("lines.removeNamed", { name: line.name })}
        >
          <span className="small-text" data-testid="phone-line-remove-prompt">
            {t("lines.removeConfirm", { name: line.name })}
          </span>
          <span className="member-actions">
            <button type="button" className="button small" onClick={() => setConfirming(null)}>
              {t("common.cancel")}
            </button>
            <button
              type="button"
              className="button small danger"
              data-testid="phone-line-remove-confirm"
              disabled={removing !== null}
              onClick={() => void remove(line)}
            >
              {removing === line.id ? t("lines.removing") : t("lines.remove")}
            </button>
          </span>
        </span>
      ) : (
        <button
          type="button"
          className="button small"
          data-testid="phone-line-remove"
          aria-label={t("lines.removeNamed", { name: line.name })}
          onClick={() => setConfirming(line.id)}
        >
          {t("lines.remove")}
        </button>
      )}
    </li>
  );

  return (
    <section className="settings-section" data-testid="phone-lines" aria-labelledby="phone-lines-title">
      <h3 id="phone-lines-title">{t("lines.title")}</h3>
      <p className="muted small-text line-intro">{t("lines.intro")}</p>
      {failed && (
        <p className="muted">
          {t("lines.loadFailed")}{" "}
          <button type="button" className="link-button" onClick={() => void reload()}>
            {t("common.retry")}
          </button>
        </p>
      )}
      {!lines && !failed && <p className="muted">{t("common.loading")}</p>}
      {lines && lines.length === 0 && (
        <p className="muted" data-testid="phone-lines-empty">
          {t("lines.empty")}
        </p>
      )}
      {lines && lines.length > 0 && <ul className="device-list">{lines.map(row)}</ul>}
      {adding ? (
        <AddPhoneLineForm
          lineCount={lines?.length ?? 0}
          onCancel={() => setAdding(false)}
          onAdded={(s) => {
            setAdding(false);
            setSettings(s);
            void reload();
          }}
        />
      ) : (
        <button
          type="button"
          className="button"
          data-testid="phone-line-add"
          disabled={(lines?.length ?? 0) >= MAX_PHONE_LINES}
          onClick={() => setAdding(true)}
        >
          <Icon name="plus" size={18} />
          {t("lines.add")}
        </button>
      )}
      {settings && <PhoneLineSettingsDialog settings={settings} onClose={() => setSettings(null)} />}
    </section>
  );
}

/** The gateway's username and the phone's name; waits (up to 20 s) for the gateway while it asks. */
function AddPhoneLineForm({
  lineCount,
  onCancel,
  onAdded,
}: {
  lineCount: number;
  onCancel: () => void;
  onAdded: (settings: PhoneLineSettings) => void;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const [gateway, setGateway] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; reason?: string } | null>(null);
  const ids = { gateway: useId(), name: useId(), gatewayHint: useId(), nameHint: useId() };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (busy) return;
    const gw = gateway.trim().replace(/^@/, "");
    // The placeholder is a suggestion: an empty name takes it.
    const lineName = name.trim() || t("lines.namePlaceholder");
    if (!USERNAME_PATTERN.test(gw)) return setError({ text: t("lines.error.badGateway") });
    // Counted as the SDK and the wire schema count (UTF-16 units), so the form never lets through
    // a name the SDK then refuses.
    if (lineName.length > MAX_NAME_CHARS) return setError({ text: t("lines.error.badName") });
    if (lineCount >= MAX_PHONE_LINES)
      return setError({ text: t("lines.error.tooMany", { max: MAX_PHONE_LINES }) });
    setBusy(true);
    setError(null);
    client.phoneLines
      .add({ gateway: gw, name: lineName })
      .then(onAdded)
      .catch((err: unknown) => {
        const f = phoneLineFailure(err, {
          gateway: gw,
          name: lineName,
          lines: lineCount,
          maxLines: MAX_PHONE_LINES,
        });
        setError({ text: t(f.key, f.vars), ...(f.reason ? { reason: f.reason } : {}) });
        setBusy(false);
      });
  };

  return (
    <form
      className="form line-form"
      onSubmit={submit}
      noValidate
      aria-label={t("lines.addTitle")}
      aria-busy={busy}
      data-testid="phone-line-form"
    >
      <h4>{t("lines.addTitle")}</h4>
      <label className="field" htmlFor={ids.gateway}>
        <span>{t("lines.gateway")}</span>
        <input
          id={ids.gateway}
          className="input"
          data-testid="phone-line-gateway"
          value={gateway}
          onChange={(e) => setGateway(e.target.value)}
          aria-describedby={ids.gatewayHint}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          disabled={busy}
          autoFocus
        />
      </label>
      <p id={ids.gatewayHint} className="field-hint">
        {t("lines.gatewayHint")}
      </p>
      <label className="field" htmlFor={ids.name}>
        <span>{t("lines.name")}</span>
        <input
          id={ids.name}
          className="input"
          data-testid="phone-line-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={t("lines.namePlaceholder")}
          aria-describedby={ids.nameHint}
          maxLength={MAX_NAME_CHARS}
          autoComplete="off"
          disabled={busy}
        />
      </label>
      <p id={ids.nameHint} className="field-hint">
        {t("lines.nameHint")}
      </p>
      {busy && (
        <p className="muted small-text line-asking" role="status" data-testid="phone-line-asking">
          <span className="line-spinner" aria-hidden="true" />
          <span>
            {t("lines.asking")} {t("lines.askingHint")}
          </span>
        </p>
      )}
      {error && (
        <div className="form-error" role="alert" data-testid="phone-line-error">
          <p>{error.text}</p>
          {error.reason && <p className="line-reason">{t("lines.error.reason", { reason: error.reason })}</p>}
        </div>
      )}
      <div className="row-actions">
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          {t("common.cancel")}
        </button>
        <button
          type="submit"
          className="button primary"
          data-testid="phone-line-submit"
          disabled={busy || !gateway.trim()}
        >
          {busy ? t("lines.asking") : t("lines.submit")}
        </button>
      </div>
    </form>
  );
}
