import { type ReactNode, useEffect, useSyncExternalStore } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { SessionController } from "../session/session-controller.ts";
import {
  applyUpdate,
  clearWakeNotices,
  getUpdateSnapshot,
  saveWorkerSettings,
  subscribeUpdate,
} from "./service-worker-client.ts";
import { useOnline } from "./use-online.ts";
import "./pwa-layer.css";

const NO_CALLS = (): (() => void) => () => undefined;

/** Whether this device is in a call: a new build must not replace the page then. */
function useInCall(session: SessionController): boolean {
  const state = useSyncExternalStore(session.subscribe, session.getSnapshot);
  const calls = state.status === "signed-in" ? state.calls : null;
  return useSyncExternalStore(calls?.subscribe ?? NO_CALLS, () =>
    calls ? calls.getSnapshot() !== null : false,
  );
}

/** The installed app's strips: "offline", and "update available — reload" (never during a call). */
export function PwaLayer({ session }: { session: SessionController }): ReactNode {
  const { t, preference } = useI18n();
  const online = useOnline();
  const update = useSyncExternalStore(subscribeUpdate, getUpdateSnapshot);
  const inCall = useInCall(session);

  useEffect(() => {
    void saveWorkerSettings(preference).catch(() => undefined);
  }, [preference]);

  useEffect(() => {
    const visible = (): void => {
      if (document.visibilityState === "visible") void clearWakeNotices().catch(() => undefined);
    };
    visible();
    document.addEventListener("visibilitychange", visible);
    return () => document.removeEventListener("visibilitychange", visible);
  }, []);

  return (
    <div className="pwa-strips">
      {!online && (
        <div className="pwa-strip" role="status" data-testid="offline">
          <strong>{t("pwa.offline")}</strong> <span>{t("pwa.offlineHint")}</span>
        </div>
      )}
      {update.waiting && !inCall && (
        <div className="pwa-strip" role="status" data-testid="update-available">
          <span>{t("pwa.update")}</span>
          <button type="button" className="button small primary" onClick={applyUpdate}>
            {t("pwa.reload")}
          </button>
        </div>
      )}
    </div>
  );
}
