import type { ReactNode } from "react";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { ConnectionBadge } from "./connection-badge.tsx";
import { ConnectionDot } from "./connection-dot.tsx";
import { IconButton } from "./icon-button.tsx";
import "./sidebar-header.css";

/** App name, connection state and the main actions (new chat, new group, call a phone, settings), above the chat list. */
export function SidebarHeader({
  onNewChat,
  onNewGroup,
  onCallPhone,
  settingsOpen,
}: {
  onNewChat: () => void;
  onNewGroup: () => void;
  onCallPhone: () => void;
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
        <IconButton
          icon="newChat"
          label={t("chats.newChat")}
          data-testid="new-chat-button"
          onClick={onNewChat}
        />
        <IconButton
          icon="group"
          label={t("chats.newGroup")}
          data-testid="new-group-button"
          onClick={onNewGroup}
        />
        <IconButton
          icon="dialpad"
          label={t("chats.callPhone")}
          data-testid="call-phone-button"
          onClick={onCallPhone}
        />
        <IconButton
          icon="settings"
          label={t("settings.title")}
          data-testid="settings-button"
          aria-pressed={settingsOpen}
          onClick={() => navigate({ name: "settings" })}
        />
      </div>
      <ConnectionBadge />
    </header>
  );
}
