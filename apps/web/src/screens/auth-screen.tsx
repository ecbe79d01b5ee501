import { PASSWORD_MIN, USERNAME_PATTERN } from "@sori/protocol";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { PasswordField } from "../components/password-field.tsx";
import { Sticker } from "../emoticons/sticker.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { SdkError } from "@sori/sdk";
import type { SessionController } from "../session/session-controller.ts";
import { AuthFooter } from "./auth-footer.tsx";
import "./auth-screen.css";

type Mode = "login" | "register" | "link";

/** Errors of a link claim that mean the code itself is no good (as opposed to the network). */
const BAD_CODE = new Set(["auth-failed", "not-found", "bad-request", "unauthenticated", "forbidden"]);

/** Sign in or sign up with a username and a password; no phone number, no e-mail. */
export function AuthScreen({
  session,
  notice,
}: {
  session: SessionController;
  notice: "revoked" | "rejected" | null;
}): ReactNode {
  const { t } = useI18n();
  const [mode, setMode] = useState<Mode>("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = {
    user: useId(),
    hint: useId(),
    code: useId(),
    codeHint: useId(),
  };

  const switchMode = (m: Mode): void => {
    setMode(m);
    setError(null);
  };

  const submitLink = async (): Promise<void> => {
    if (!code.trim()) return setError(t("link.codeMissing"));
    setBusy(true);
    setError(null);
    try {
      await session.link(code);
    } catch (err) {
      setError(
        err instanceof SdkError && BAD_CODE.has(err.code) ? t("link.badCode") : t(errorMessageKey(err)),
      );
      setBusy(false);
    }
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (busy) return;
    if (mode === "link") return submitLink();
    const name = username.trim();
    if (!USERNAME_PATTERN.test(name)) return setError(t("auth.usernameInvalid"));
    if (password.length < PASSWORD_MIN) return setError(t("auth.passwordTooShort", { min: PASSWORD_MIN }));
    if (mode === "register" && password !== confirm) return setError(t("auth.passwordMismatch"));
    setBusy(true);
    setError(null);
    try {
      await session.enroll(mode === "register" ? "register" : "login", name, password);
    } catch (err) {
      setError(t(errorMessageKey(err)));
      setBusy(false);
    }
  };

  return (
    <div className="auth-screen">
      <main className="auth-card">
        <div className="auth-brand">
          <Sticker pack="sori" id="hello" size={88} />
          <h1 className="brand-title">{t("app.name")}</h1>
          <p className="muted">{t("auth.tagline")}</p>
        </div>

        {notice && (
          <p className="notice" role="alert" data-testid="auth-notice" data-notice={notice}>
            {t(notice === "revoked" ? "auth.revoked" : "auth.rejected")}
          </p>
        )}

        {mode === "link" ? (
          <form className="form" onSubmit={(e) => void submit(e)} noValidate data-testid="link-form">
            <h2 className="auth-subtitle">{t("link.withCode")}</h2>
            <label className="field" htmlFor={ids.code}>
              <span>{t("link.code")}</span>
              <input
                id={ids.code}
                className="input code-input"
                data-testid="link-code-input"
                value={code}
                onChange={(e) => setCode(e.target.value)}
                placeholder="XXXXX-XXXXX-XXXXX-XXXXX"
                autoComplete="one-time-code"
                autoCapitalize="characters"
                autoCorrect="off"
                spellCheck={false}
                aria-describedby={ids.codeHint}
                required
              />
            </label>
            <p id={ids.codeHint} className="field-hint">
              {t("link.codeHint")}
            </p>
            {error && (
              <p className="form-error" role="alert" data-testid="auth-error">
                {error}
              </p>
            )}
            <button type="submit" className="button primary wide" data-testid="link-submit" disabled={busy}>
              {busy ? t("link.linking") : t("link.submit")}
            </button>
            <button type="button" className="link-button" onClick={() => switchMode("login")}>
              {t("link.backToSignIn")}
            </button>
          </form>
        ) : (
          <>
            <div className="segmented" role="group" aria-label={t("auth.modeLabel")}>
              <button
                type="button"
                aria-pressed={mode === "login"}
                data-testid="auth-mode-login"
                onClick={() => switchMode("login")}
              >
                {t("auth.signIn")}
              </button>
              <button
                type="button"
                aria-pressed={mode === "register"}
                data-testid="auth-mode-register"
                onClick={() => switchMode("register")}
              >
                {t("auth.signUp")}
              </button>
            </div>

            <form className="form" onSubmit={(e) => void submit(e)} noValidate>
              <label className="field" htmlFor={ids.user}>
                <span>{t("auth.username")}</span>
                <input
                  id={ids.user}
                  className="input"
                  data-testid="auth-username"
                  value={username}
                  onChange={(e) => setUsername(e.target.value)}
                  autoComplete="username"
                  autoCapitalize="none"
                  autoCorrect="off"
                  spellCheck={false}
                  maxLength={32}
                  aria-describedby={mode === "register" ? ids.hint : undefined}
                  required
                />
              </label>
              {mode === "register" && (
                <p id={ids.hint} className="field-hint">
                  {t("auth.usernameHint")}
                </p>
              )}
              <PasswordField
                label={t("auth.password")}
                testId="auth-password"
                value={password}
                onChange={setPassword}
                autoComplete={mode === "register" ? "new-password" : "current-password"}
              />
              {mode === "register" && (
                <PasswordField
                  label={t("auth.passwordConfirm")}
                  testId="auth-password-confirm"
                  value={confirm}
                  onChange={setConfirm}
                  autoComplete="new-password"
                />
              )}
              {error && (
                <p className="form-error" role="alert" data-testid="auth-error">
                  {error}
                </p>
              )}
              <button type="submit" className="button primary wide" data-testid="auth-submit" disabled={busy}>
                {busy
                  ? mode === "register"
                    ? t("auth.signingUp")
                    : t("auth.signingIn")
                  : mode === "register"
                    ? t("auth.signUp")
                    : t("auth.signIn")}
              </button>
            </form>
            <p className="auth-link-device muted">
              {t("link.fromOther")}{" "}
              <button
                type="button"
                className="link-button"
                data-testid="auth-mode-link"
                onClick={() => switchMode("link")}
              >
                {t("link.withCode")}
              </button>
            </p>
          </>
        )}

        <AuthFooter />
      </main>
    </div>
  );
}
