import { PASSWORD_MIN } from "@sori/protocol";
import { SdkError } from "@sori/sdk";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { PasswordField } from "../components/password-field.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";

/**
 * Changes the account's password (current, new, new again). The server signs every other device of
 * the account out, which the form says before it is sent: the way to lock out a device that should
 * not be there, and to make sure a leaked password stops working.
 */
export function ChangePasswordForm({ onChanged }: { onChanged: () => void }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [open, setOpen] = useState(false);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const hint = useId();

  const close = (): void => {
    setOpen(false);
    setCurrent("");
    setNext("");
    setAgain("");
    setError(null);
  };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (busy) return;
    if (next.length < PASSWORD_MIN) return setError(t("auth.passwordTooShort", { min: PASSWORD_MIN }));
    if (next !== again) return setError(t("auth.passwordMismatch"));
    setBusy(true);
    setError(null);
    client
      .changePassword(current, next)
      .then(() => {
        close();
        showToast(t("password.done"));
        onChanged();
      })
      .catch((err: unknown) =>
        setError(
          err instanceof SdkError && err.code === "auth-failed"
            ? t("password.wrong")
            : t(errorMessageKey(err)),
        ),
      )
      .finally(() => setBusy(false));
  };

  if (!open)
    return (
      <button type="button" className="button" data-testid="change-password" onClick={() => setOpen(true)}>
        {t("password.title")}
      </button>
    );

  return (
    <form
      className="form password-form"
      onSubmit={submit}
      noValidate
      data-testid="change-password-form"
      aria-label={t("password.title")}
    >
      <h4>{t("password.title")}</h4>
      <p id={hint} className="field-hint">
        {t("password.hint")}
      </p>
      <PasswordField
        label={t("password.current")}
        testId="password-current"
        value={current}
        onChange={setCurrent}
        autoComplete="current-password"
      />
      <PasswordField
        label={t("password.new")}
        testId="password-new"
        value={next}
        onChange={setNext}
        autoComplete="new-password"
        describedBy={hint}
      />
      <PasswordField
        label={t("password.confirm")}
        testId="password-again"
        value={again}
        onChange={setAgain}
        autoComplete="new-password"
      />
      {error && (
        <p className="form-error" role="alert" data-testid="password-error">
          {error}
        </p>
      )}
      <div className="row-actions">
        <button type="button" className="button" onClick={close}>
          {t("common.cancel")}
        </button>
        <button type="submit" className="button primary" data-testid="password-submit" disabled={busy}>
          {busy ? t("password.saving") : t("password.submit")}
        </button>
      </div>
    </form>
  );
}
