import type { ReactNode } from "react";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { ConnectionBadge } from "./connection-badge.tsx";
import { ConnectionDot } from "./connection-dot.tsx";
import { Icon } from "./icon.tsx";

/** App name, connection state and the main actions, above the chat list. */
export function SidebarHeader({
  onNewChat,
  onNewGroup,
  settingsOpen,
}: {
  onNewChat: () => void;
  onNewGroup: () => void;
  settingsOpen: boolean;
}): ReactNode {
  const { t } = useI18n();
  return (
    <header className="sidebar-header">
      <div className="brand">
        <span className="brand-name">{t("app.name")}</span>
        <ConnectionDot />
      </div>
      <div className="header-actions">
        <button
          type="button"
          className="icon-button"
          data-testid="new-chat-button"
          aria-label={t("chats.newChat")}
          title={t("chats.newChat")}
          onClick={onNewChat}
        >
          <Icon name="newChat" />
        </button>
        <button
          type="button"
          className="icon-button"
          data-testid="new-group-button"
          aria-label={t("chats.newGroup")}
          title={t("chats.newGroup")}
          onClick={onNewGroup}
        >
          <Icon name="group" />
        </button>
        <button
          type="button"
          className="icon-button"
          data-testid="settings-button"
          aria-label={t("settings.title")}
          title={t("settings.title")}
          aria-pressed={settingsOpen}
          onClick={() => navigate({ name: "settings" })}
        >
          <Icon name="settings" />
        </button>
      </div>
      <ConnectionBadge />
    </header>
  );
}
