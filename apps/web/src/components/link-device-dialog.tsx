import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatDuration } from "../lib/file-size.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import { Icon } from "./icon.tsx";
import { QrCode } from "./qr-code.tsx";
import "../screens/safety-dialog.css";
import "./link-device-dialog.css";

/** How often the dialog looks for the new device while the code is valid. */
const POLL_MS = 2000;

type Link = { code: string; qr: string; expiresAt: number };

/**
 * Shows a single-use code (and its QR) that lets a new device join this account without the
 * password, counts down its ten minutes, and says so as soon as the new device has joined.
 */
export function LinkDeviceDialog({
  onClose,
  onLinked,
}: {
  onClose: () => void;
  onLinked: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const [link, setLink] = useState<Link | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [linked, setLinked] = useState<string | null>(null);
  const known = useRef<Set<string> | null>(null);

  const create = useCallback((): void => {
    setError(null);
    setLink(null);
    Promise.all([client.createDeviceLink(), client.devices()])
      .then(([l, list]) => {
        known.current = new Set(list.devices.map((d) => d.deviceId));
        setLink(l);
        setNow(Date.now());
      })
      .catch((e: unknown) => setError(t(errorMessageKey(e))));
  }, [client, t]);

  useEffect(() => create(), [create]);

  const expired = link !== null && now >= link.expiresAt;
  const waiting = link !== null && !expired && linked === null;

  useEffect(() => {
    if (!link || linked !== null) return;
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(tick);
  }, [link, linked]);

  useEffect(() => {
    if (!waiting) return;
    let cancelled = false;
    const poll = window.setInterval(() => {
      client
        .devices()
        .then((list) => {
          const added = list.devices.find((d) => !known.current?.has(d.deviceId));
          if (cancelled || !added) return;
          setLinked(added.name);
          onLinked();
        })
        .catch(() => undefined);
    }, POLL_MS);
    return () => {
      cancelled = true;
      window.clearInterval(poll);
    };
  }, [client, waiting, onLinked]);

  return (
    <Dialog title={t("link.title")} onClose={onClose} testId="link-device-dialog">
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!link && !error && <p className="muted">{t("common.loading")}</p>}
      {linked !== null ? (
        <p className="safety-state verified" role="status" data-testid="link-done">
          <Icon name="check" size={18} />
          {t("link.done", { name: linked })}
        </p>
      ) : (
        link && (
          <div className="safety">
            <p className="muted small-text">{t("link.steps")}</p>
            {expired ? (
              <>
                <p role="alert">{t("link.expired")}</p>
                <button type="button" className="button primary" onClick={create}>
                  {t("link.newCode")}
                </button>
              </>
            ) : (
              <>
                <QrCode text={link.qr} label={t("link.qr")} size={180} />
                <p className="link-code" data-testid="link-code">
                  {link.code}
                </p>
                <p className="muted small-text" role="status">
                  {t("link.expires", { time: formatDuration((link.expiresAt - now) / 1000) })} ·{" "}
                  {t("link.waiting")}
                </p>
                <details className="link-qr-text">
                  <summary>{t("link.qrText")}</summary>
                  <code>{link.qr}</code>
                </details>
              </>
            )}
          </div>
        )
      )}
    </Dialog>
  );
}
