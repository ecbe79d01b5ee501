import { type ReactNode, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { SessionController } from "../session/session-controller.ts";
import "./unavailable-screen.css";

/** Shown when this browser cannot keep Sori's encrypted local data (blocked storage, damaged data). */
export function UnavailableScreen({ session }: { session: SessionController }): ReactNode {
  const { t } = useI18n();
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="center-screen">
      <div className="card narrow">
        <h1 className="card-title">{t("unavailable.title")}</h1>
        <p>{t("unavailable.body")}</p>
        <div className="row-actions">
          <button type="button" className="button primary" onClick={() => window.location.reload()}>
            {t("unavailable.retry")}
          </button>
          {confirming ? (
            <button type="button" className="button danger" onClick={() => void session.resetStorage()}>
              {t("unavailable.resetConfirm")}
            </button>
          ) : (
            <button type="button" className="button" onClick={() => setConfirming(true)}>
              {t("unavailable.reset")}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
