import type { ChatSummary } from "@sori/sdk";
import type { ReactNode } from "react";
import { CallButtons } from "../calls/call-buttons.tsx";
import { useChatTitle } from "../hooks/use-chat-title.ts";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { directPartner } from "../lib/chat-partner.ts";
import { useSignedIn } from "../session/client-context.ts";
import { ChatAvatar } from "./chat-avatar.tsx";
import { IconButton } from "./icon-button.tsx";

export function ConversationHeader({ chat }: { chat: ChatSummary }): ReactNode {
  const { t, tp } = useI18n();
  const { client } = useSignedIn();
  const title = useChatTitle(chat);
  const partner = directPartner(chat, client.userId);
  const subtitle = !chat.active
    ? t("chat.inactive")
    : partner
      ? `@${partner.username}`
      : tp("group.memberCount", chat.members.length);

  return (
    <header className="pane-header">
      <IconButton
        icon="back"
        label={t("chat.backToList")}
        className="back-button"
        data-testid="back-button"
        onClick={() => navigate({ name: "list" })}
      />
      <ChatAvatar chat={chat} size={38} />
      <div className="pane-title">
        <h2 data-testid="conversation-title">{title}</h2>
        <p className="muted">{subtitle}</p>
      </div>
      {chat.kind === "direct" && chat.active && partner && <CallButtons chat={chat} />}
      {chat.kind === "group" && (
        <IconButton
          icon="info"
          label={t("group.info")}
          data-testid="group-info-button"
          onClick={() => navigate({ name: "group-info", chatId: chat.id })}
        />
      )}
    </header>
  );
}
