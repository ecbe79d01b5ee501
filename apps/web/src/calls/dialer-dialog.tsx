import { USERNAME_PATTERN } from "@sori/protocol";
import { CallError, SdkError } from "@sori/sdk";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { Dialog } from "../components/dialog.tsx";
import { Icon } from "../components/icon.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import { parseDialTarget } from "../lib/dial-target.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { loadDialGateway, saveDialGateway } from "../lib/preferences.ts";
import { useSignedIn } from "../session/client-context.ts";
import { DialKeypad } from "./dial-keypad.tsx";
import { useCallView } from "./use-call-view.ts";
import "./dialer-dialog.css";

/** Why `calls.start` to a gateway failed, as a sentence for the person. */
function startFailureKey(error: unknown): MessageKey {
  if (error instanceof CallError) return error.code === "busy" ? "call.alreadyInCall" : "call.startFailed";
  if (error instanceof SdkError && error.code === "unknown-user") return "lines.error.unknownGateway";
  return error instanceof SdkError ? errorMessageKey(error) : "call.startFailed";
}

/**
 * "Call a phone": a SIP address or a phone number (typed, pasted or tapped on the keypad) called
 * through a SIP gateway's Sori account. The gateway is remembered on this device after a call, and
 * until then is taken from the person's own phone line if they have one.
 */
export function DialerDialog({ onClose }: { onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { client, calls } = useSignedIn();
  const view = useCallView();
  const [target, setTarget] = useState("");
  const [gateway, setGateway] = useState(() => loadDialGateway(client.userId) ?? "");
  const [error, setError] = useState<{ text: string; field: "target" | "gateway" | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const targetRef = useRef<HTMLInputElement>(null);
  const gatewayRef = useRef<HTMLInputElement>(null);
  // Once the person types a gateway (or one was remembered), a phone line's must not replace it.
  const gatewayTouched = useRef(gateway !== "");
  const ids = {
    target: useId(),
    targetHint: useId(),
    gateway: useId(),
    gatewayHint: useId(),
    error: useId(),
  };
  const inCall = view !== null && view.state !== "ended";

  useEffect(() => {
    if (gatewayTouched.current) return;
    let live = true;
    client.phoneLines
      .list()
      .then((lines) => {
        const first = lines[0];
        if (live && first && !gatewayTouched.current) setGateway(first.gateway.username);
      })
      // Without the lines the person types the gateway; nothing to report.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client]);

  const fail = (text: string, field: "target" | "gateway" | null): void => {
    setError({ text, field });
    if (field === "target") targetRef.current?.focus();
    if (field === "gateway") gatewayRef.current?.focus();
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (busy) return;
    const dial = parseDialTarget(target);
    if (!dial.ok) return fail(t("dialer.invalid"), "target");
    const gw = gateway.trim().replace(/^@/, "");
    if (!USERNAME_PATTERN.test(gw)) return fail(t("lines.error.badGateway"), "gateway");
    if (gw.toLowerCase() === client.username.toLowerCase()) return fail(t("newChat.self"), "gateway");
    if (inCall) return fail(t("call.alreadyInCall"), null);
    setBusy(true);
    setError(null);
    try {
      await calls.startPhone(gw, dial.uri);
      saveDialGateway(client.userId, gw);
      onClose();
    } catch (err) {
      setBusy(false);
      const key = startFailureKey(err);
      fail(t(key, { gateway: gw }), key === "lines.error.unknownGateway" ? "gateway" : null);
    }
  };

  const press = (key: string): void => {
    setTarget((v) => v + key);
    setError(null);
  };

  const describedBy = (hint: string, field: "target" | "gateway"): string =>
    error?.field === field ? `${ids.error} ${hint}` : hint;

  return (
    <Dialog title={t("dialer.title")} onClose={onClose} testId="dialer">
      <form className="form dialer-form" onSubmit={(e) => void submit(e)} noValidate aria-busy={busy}>
        <label className="field" htmlFor={ids.target}>
          <span>{t("dialer.target")}</span>
          <input
            ref={targetRef}
            id={ids.target}
            className="input dialer-target"
            data-testid="dialer-target"
            value={target}
            onChange={(e) => {
              setTarget(e.target.value);
              setError(null);
            }}
            placeholder={t("dialer.targetPlaceholder")}
            aria-describedby={describedBy(ids.targetHint, "target")}
            aria-invalid={error?.field === "target"}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            enterKeyHint="go"
            disabled={busy}
            autoFocus
          />
        </label>
        <p id={ids.targetHint} className="field-hint">
          {t("dialer.targetHint")}
        </p>
        <DialKeypad onKey={press} onBackspace={() => setTarget((v) => v.slice(0, -1))} disabled={busy} />
        <label className="field" htmlFor={ids.gateway}>
          <span>{t("dialer.gateway")}</span>
          <input
            ref={gatewayRef}
            id={ids.gateway}
            className="input"
            data-testid="dialer-gateway"
            value={gateway}
            onChange={(e) => {
              gatewayTouched.current = true;
              setGateway(e.target.value);
              setError(null);
            }}
            aria-describedby={describedBy(ids.gatewayHint, "gateway")}
            aria-invalid={error?.field === "gateway"}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            enterKeyHint="go"
            disabled={busy}
          />
        </label>
        <p id={ids.gatewayHint} className="field-hint">
          {t("dialer.gatewayHint")}
        </p>
        <p className="dialer-e2ee small-text" data-testid="dialer-e2ee">
          <Icon name="alert" size={16} /> {t("dialer.e2ee")}
        </p>
        {error && (
          <p id={ids.error} className="form-error" role="alert" data-testid="dialer-error">
            {error.text}
          </p>
        )}
        <button
          type="submit"
          className="button primary wide dialer-call"
          data-testid="dialer-call"
          disabled={busy || !target.trim()}
        >
          <Icon name="phone" size={20} />
          {busy ? t("dialer.calling") : t("dialer.call")}
        </button>
      </form>
    </Dialog>
  );
}
