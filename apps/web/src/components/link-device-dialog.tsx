import { type ReactNode, useCallback, useEffect, useState } from "react";
import { useClientEvent } from "../hooks/use-client-event.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatDuration } from "../lib/file-size.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import { Icon } from "./icon.tsx";
import { QrCode } from "./qr-code.tsx";
import "../screens/safety-dialog.css";
import "./link-device-dialog.css";

type Link = { code: string; qr: string; expiresAt: number };

/**
 * Shows a single-use code (and its QR) that lets a new device join this account without the
 * password, counts down its ten minutes, and stays open: this device approves the new one by itself
 * when it uses the code (the second half of the code never reached the server, so only a device that
 * read it here can prove it), then says "Linked: NAME" (the SDK's `own-device` event).
 */
export function LinkDeviceDialog({
  onClose,
  onLinked,
}: {
  onClose: () => void;
  onLinked: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client, approvals } = useSignedIn();
  const [link, setLink] = useState<Link | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [linked, setLinked] = useState<string | null>(null);

  const create = useCallback((): void => {
    setError(null);
    setLink(null);
    client
      .createDeviceLink()
      .then((l) => {
        setLink(l);
        setNow(Date.now());
      })
      .catch((e: unknown) => setError(t(errorMessageKey(e))));
  }, [client, t]);

  useEffect(() => create(), [create]);
  // The device that uses the code is expected: this dialog names it, the "new device" warning need not.
  useEffect(() => approvals.expectLink(), [approvals]);

  const expired = link !== null && now >= link.expiresAt;

  useEffect(() => {
    if (!link || linked !== null) return;
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(tick);
  }, [link, linked]);

  useClientEvent(client, "own-device", (d) => {
    if (linked !== null || !link) return;
    setLinked(d.name);
    onLinked();
  });

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
            <p className="small-text" data-testid="link-keep-open">
              {t("link.keepOpen")}
            </p>
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
