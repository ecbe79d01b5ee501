import type { ReactNode } from "react";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import "../screens/empty-pane.css";

/** Shown where a chat should be but this device has none with that id (a stale link, a left chat). */
export function UnknownChatPane(): ReactNode {
  const { t } = useI18n();
  return (
    <section className="pane">
      <div className="empty-pane">
        <p>{t("error.unknownChat")}</p>
        <button type="button" className="button" onClick={() => navigate({ name: "list" })}>
          {t("chat.backToList")}
        </button>
      </div>
    </section>
  );
}
