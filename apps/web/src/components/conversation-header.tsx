import { bridgedNetworkOf, type ChatSummary } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { CallButtons } from "../calls/call-buttons.tsx";
import { useChatTitle } from "../hooks/use-chat-title.ts";
import { navigate } from "../hooks/use-hash-route.ts";
import { useProfile } from "../hooks/use-profile.ts";
import { useSafety } from "../hooks/use-safety.ts";
import type { Typist } from "../hooks/use-typing.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { directPartner } from "../lib/chat-partner.ts";
import { nameWithUsername } from "../lib/person-name.ts";
import { timerLabel, timerShortLabel } from "../lib/timer-label.ts";
import { useSignedIn } from "../session/client-context.ts";
import { ChatAvatar } from "./chat-avatar.tsx";
import { Icon } from "./icon.tsx";
import { IconButton } from "./icon-button.tsx";
import { TimerDialog } from "./timer-dialog.tsx";
import "./conversation-header.css";

function TypingLine({ typists, inGroup }: { typists: Typist[]; inGroup: boolean }): ReactNode {
  const { t } = useI18n();
  const first = typists[0];
  const displayName = useProfile(first?.userId ?? null).displayName;
  const username = first?.username ?? "";
  const name = inGroup ? nameWithUsername(displayName, username) : (displayName ?? username);
  return (
    <p className="muted typing-line" data-testid="typing-indicator">
      <span className="typing-dots" aria-hidden="true">
        <span />
        <span />
        <span />
      </span>
      {typists.length > 1 ? t("typing.many") : t("typing.one", { name })}
    </p>
  );
}

export function ConversationHeader({
  chat,
  typists,
  onOpenSafety,
}: {
  chat: ChatSummary;
  typists: Typist[];
  onOpenSafety: (username: string) => void;
}): ReactNode {
  const { t, tp } = useI18n();
  const { client } = useSignedIn();
  const [timerOpen, setTimerOpen] = useState(false);
  const title = useChatTitle(chat);
  const partner = directPartner(chat, client.userId);
  const { safety } = useSafety(client, partner?.username ?? null);
  const verified = safety?.verified === true;
  // Said on every chat with someone on another network: past the gateway, nothing is end-to-end.
  const networks = [...new Set(chat.members.map(bridgedNetworkOf).filter((n) => n !== undefined))];
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
        <h2 data-testid="conversation-title">
          {title}
          {verified && (
            <span
              className="verified-mark"
              data-testid="verified-mark"
              role="img"
              aria-label={t("safety.verified")}
              title={t("safety.verified")}
            >
              <Icon name="shieldCheck" size={16} />
            </span>
          )}
        </h2>
        {/* Polite live region: "typing…" is announced without interrupting. */}
        <div aria-live="polite">
          {chat.active && typists.length > 0 ? (
            <TypingLine typists={typists} inGroup={chat.kind === "group"} />
          ) : (
            <p className="muted">{subtitle}</p>
          )}
        </div>
        {networks.length > 0 && (
          <p className="muted bridged-notice" data-testid="bridged-notice">
            <Icon name="shield" size={14} /> {t("chat.bridged", { network: networks.join(", ") })}
          </p>
        )}
      </div>
      {chat.kind === "direct" && chat.active && partner && <CallButtons chat={chat} />}
      {chat.active && (
        <button
          type="button"
          className={chat.timer > 0 ? "timer-button on" : "timer-button"}
          data-testid="timer-button"
          data-timer={chat.timer}
          aria-haspopup="dialog"
          aria-label={t("timer.button", { value: timerLabel(chat.timer, t) })}
          title={t("timer.button", { value: timerLabel(chat.timer, t) })}
          onClick={() => setTimerOpen(true)}
        >
          <Icon name="timer" size={20} />
          {chat.timer > 0 && <span data-testid="timer-indicator">{timerShortLabel(chat.timer, t)}</span>}
        </button>
      )}
      {partner && (
        <IconButton
          icon={verified ? "shieldCheck" : "shield"}
          label={t("safety.open", { name: title })}
          data-testid="safety-button"
          data-verified={verified}
          onClick={() => onOpenSafety(partner.username)}
        />
      )}
      {chat.kind === "group" && (
        <IconButton
          icon="info"
          label={t("group.info")}
          data-testid="group-info-button"
          onClick={() => navigate({ name: "group-info", chatId: chat.id })}
        />
      )}
      {timerOpen && <TimerDialog chat={chat} onClose={() => setTimerOpen(false)} />}
    </header>
  );
}
