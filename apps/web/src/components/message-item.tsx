import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { CallHistoryEntry } from "../calls/call-history-entry.tsx";
import { Sticker } from "../emoticons/sticker.tsx";
import { useProfile } from "../hooks/use-profile.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import { isJumboEmoji } from "../lib/emoji.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatClock } from "../lib/format-time.ts";
import { useSignedIn } from "../session/client-context.ts";
import { UserAvatar } from "./avatar.tsx";
import { Icon, type IconName } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";

const STATUS: Record<ChatMessage["status"], { icon: IconName; label: MessageKey }> = {
  sending: { icon: "clock", label: "status.sending" },
  sent: { icon: "check", label: "status.sent" },
  delivered: { icon: "doubleCheck", label: "status.delivered" },
  failed: { icon: "alert", label: "status.failed" },
};

/** One message: a bubble (or a large sticker) with its time and, for own messages, delivery state. */
export function MessageItem({
  message: m,
  chat,
  firstOfRun,
  showTime,
}: {
  message: ChatMessage;
  chat: ChatSummary;
  firstOfRun: boolean;
  showTime: boolean;
}): ReactNode {
  const { t, language } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const profile = useProfile(m.outgoing ? null : m.fromUserId);
  const [retrying, setRetrying] = useState(false);
  const name = profile.displayName ?? m.from;
  const status = STATUS[m.status];

  const retry = async (): Promise<void> => {
    setRetrying(true);
    try {
      await client.retry(chat.id, m.id);
    } catch (error) {
      showToast(t(errorMessageKey(error)));
    } finally {
      setRetrying(false);
    }
  };

  const content =
    m.kind === "call" && m.call ? (
      <CallHistoryEntry entry={m.call} chat={chat} />
    ) : m.kind === "sticker" && m.sticker ? (
      <div className="sticker-message">
        <Sticker pack={m.sticker.pack} id={m.sticker.id} />
      </div>
    ) : (
      <div className={isJumboEmoji(m.text) ? "bubble jumbo" : "bubble"} data-testid="message-text">
        {m.text}
      </div>
    );

  return (
    <div
      className={`message-row${m.outgoing ? " own" : ""}${firstOfRun ? " first" : ""}`}
      data-testid="message"
      data-message-id={m.id}
      data-status={m.status}
      data-kind={m.kind}
      data-from={m.from}
    >
      {!m.outgoing && (
        <div className="message-avatar">
          {firstOfRun && <UserAvatar userId={m.fromUserId} username={m.from} size={36} />}
        </div>
      )}
      <div className="message-body">
        {!m.outgoing && firstOfRun && <div className="message-sender">{name}</div>}
        <div className="message-line">
          {content}
          <div className="message-meta">
            {m.outgoing && m.status === "failed" ? (
              <button
                type="button"
                className="retry-button"
                data-testid="retry-button"
                onClick={() => void retry()}
                disabled={retrying}
              >
                <Icon name="retry" size={14} />
                {t("status.retry")}
              </button>
            ) : null}
            {m.outgoing && (
              <span
                className={`message-status status-${m.status}`}
                title={t(status.label)}
                role="img"
                aria-label={t(status.label)}
              >
                <Icon name={status.icon} size={14} />
              </span>
            )}
            {showTime && (
              <time className="message-time" dateTime={new Date(m.sentAt).toISOString()}>
                {formatClock(m.sentAt, language)}
              </time>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}
