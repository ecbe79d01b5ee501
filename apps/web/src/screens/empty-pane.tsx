import type { ReactNode } from "react";
import { Icon } from "../components/icon.tsx";
import { Sticker } from "../emoticons/sticker.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import "./empty-pane.css";

/** The right pane on a desktop before a chat is chosen. */
export function EmptyPane(): ReactNode {
  const { t } = useI18n();
  return (
    <div className="empty-pane">
      <Sticker pack="sori" id="hello" size={120} />
      <h2>{t("empty.title")}</h2>
      <p className="muted with-icon">
        <Icon name="lock" size={16} />
        <span>{t("empty.body")}</span>
      </p>
    </div>
  );
}
