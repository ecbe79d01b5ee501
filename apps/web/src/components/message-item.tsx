import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type PointerEvent, type ReactNode, useRef, useState } from "react";
import { CallHistoryEntry } from "../calls/call-history-entry.tsx";
import { SORI_PACK } from "../emoticons/sori-pack.ts";
import { Sticker } from "../emoticons/sticker.tsx";
import { useProfile } from "../hooks/use-profile.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import { isJumboEmoji } from "../lib/emoji.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { formatClock } from "../lib/format-time.ts";
import { jumpToMessage } from "../lib/jump.ts";
import { nameWithUsername } from "../lib/person-name.ts";
import { useSignedIn } from "../session/client-context.ts";
import { UserAvatar } from "./avatar.tsx";
import { Icon, type IconName } from "./icon.tsx";
import { FileMessage } from "./file-message.tsx";
import { PersonName } from "./person-name.tsx";
import { StickerPackCard } from "./sticker-pack-card.tsx";
import { SystemLine } from "./system-line.tsx";
import { UserSticker } from "./user-sticker.tsx";
import { useToast } from "./toast-provider.tsx";
import "./message-item.css";

const STATUS: Record<ChatMessage["status"] | "read", { icon: IconName; label: MessageKey }> = {
  sending: { icon: "clock", label: "status.sending" },
  sent: { icon: "check", label: "status.sent" },
  delivered: { icon: "doubleCheck", label: "status.delivered" },
  failed: { icon: "alert", label: "status.failed" },
  read: { icon: "doubleCheck", label: "msg.read" },
};

/** Holding a bubble this long opens its menu on touch screens, as in KakaoTalk. */
const LONG_PRESS_MS = 450;
/** A finger moving further than this is scrolling, not holding. */
const LONG_PRESS_SLOP_PX = 10;
/**
 * One message: a bubble (or a large sticker) with its time and, for own messages, delivery or read
 * state; a quoted reply above, reactions below, "edited"/"forwarded" labels, and a menu (long-press,
 * right-click, or the "more" button for keyboards) for everything else.
 */
export function MessageItem({
  message: m,
  chat,
  firstOfRun,
  showTime,
  onOpenMenu,
  quoteDeleted = false,
}: {
  message: ChatMessage;
  /** The quoted message was deleted for everyone: its snippet must not live on in the quote. */
  quoteDeleted?: boolean;
  chat: ChatSummary;
  firstOfRun: boolean;
  showTime: boolean;
  onOpenMenu: (m: ChatMessage) => void;
}): ReactNode {
  const { t, language } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const profile = useProfile(m.outgoing ? null : m.fromUserId);
  const quoted = useProfile(
    m.replyTo && m.replyTo.fromUserId !== client.userId ? m.replyTo.fromUserId : null,
  );
  const [retrying, setRetrying] = useState(false);
  const press = useRef<{ timer: number; x: number; y: number } | null>(null);

  if (m.kind === "system") return <SystemLine message={m} />;

  // In a group anyone may call themselves anything: the username shows beside a display name.
  const inGroup = chat.kind === "group";
  const status = STATUS[m.outgoing && m.read ? "read" : m.status];
  // Sent, but the gateway of a member on another network could not pass it on: resending would not help.
  const undelivered = m.outgoing ? (m.undelivered ?? []) : [];

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

  const react = (emoji: string): void => {
    client.react(chat.id, m.id, emoji).catch((error: unknown) => showToast(t(errorMessageKey(error))));
  };

  const cancelPress = (): void => {
    if (press.current) window.clearTimeout(press.current.timer);
    press.current = null;
  };
  const onPointerDown = (e: PointerEvent): void => {
    if (e.pointerType === "mouse") return;
    cancelPress();
    press.current = {
      x: e.clientX,
      y: e.clientY,
      timer: window.setTimeout(() => {
        press.current = null;
        onOpenMenu(m);
      }, LONG_PRESS_MS),
    };
  };
  const onPointerMove = (e: PointerEvent): void => {
    const p = press.current;
    if (p && Math.hypot(e.clientX - p.x, e.clientY - p.y) > LONG_PRESS_SLOP_PX) cancelPress();
  };

  const reply = m.replyTo;
  const quote = reply && !m.deleted && (
    <button
      type="button"
      className="reply-quote"
      data-testid="reply-quote"
      aria-label={`${t("msg.jumpToOriginal")}: ${quoteDeleted ? t("msg.deleted") : reply.text}${
        reply.mismatch && !quoteDeleted ? ` (${t("msg.quoteMismatch")})` : ""
      }`}
      onClick={(e) => {
        e.stopPropagation();
        if (!jumpToMessage(reply.id)) showToast(t("msg.originalGone"));
      }}
    >
      <span className="reply-quote-name">
        {t("msg.replyTo", {
          name:
            reply.fromUserId === client.userId
              ? t("system.you")
              : inGroup
                ? nameWithUsername(quoted.displayName, reply.from)
                : (quoted.displayName ?? reply.from),
        })}
      </span>
      <span className="reply-quote-text">{quoteDeleted ? t("msg.deleted") : reply.text}</span>
      {reply.mismatch && !quoteDeleted && (
        <span className="reply-quote-mismatch" data-testid="reply-mismatch">
          <Icon name="warning" size={12} />
          {t("msg.quoteMismatch")}
        </span>
      )}
    </button>
  );

  const content = m.deleted ? (
    <div className="bubble deleted" data-testid="message-deleted">
      <Icon name="alert" size={15} />
      {t("msg.deleted")}
    </div>
  ) : m.kind === "call" && m.call ? (
    <CallHistoryEntry entry={m.call} chat={chat} />
  ) : m.kind === "sticker" && m.sticker ? (
    <div className="sticker-message">
      {quote}
      {m.sticker.pack === SORI_PACK ? (
        <Sticker pack={m.sticker.pack} id={m.sticker.id} />
      ) : (
        <UserSticker pack={m.sticker.pack} id={m.sticker.id} from={{ chat: chat.id, messageId: m.id }} />
      )}
    </div>
  ) : m.kind === "sticker-pack" ? (
    <div className="bubble file">
      <StickerPackCard message={m} chat={chat} />
    </div>
  ) : (
    <div
      className={
        isJumboEmoji(m.text) && !quote && m.kind === "text"
          ? "bubble jumbo"
          : m.kind === "file"
            ? "bubble file"
            : "bubble"
      }
      data-testid="message-bubble"
    >
      {m.forwarded && (
        <span className="forwarded-label">
          <Icon name="forward" size={13} />
          {t("msg.forwarded")}
        </span>
      )}
      {quote}
      {m.kind === "file" && m.file && <FileMessage message={m} chat={chat} />}
      {m.text && <span data-testid="message-text">{m.text}</span>}
    </div>
  );

  const reactions = Object.entries(m.reactions ?? {}).filter(([, users]) => users.length > 0);

  return (
    <div
      className={`message-row${m.outgoing ? " own" : ""}${firstOfRun ? " first" : ""}`}
      data-testid="message"
      data-message-id={m.id}
      data-status={m.status}
      data-kind={m.kind}
      data-from={m.from}
      data-read={m.read ? "true" : undefined}
      data-deleted={m.deleted ? "true" : undefined}
      data-edited={m.edited ? "true" : undefined}
      tabIndex={-1}
      onContextMenu={(e) => {
        // Right-click (and long-press on Android) opens Sori's menu instead of the browser's.
        if (window.getSelection()?.toString()) return;
        e.preventDefault();
        cancelPress();
        onOpenMenu(m);
      }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={cancelPress}
      onPointerCancel={cancelPress}
    >
      {!m.outgoing && (
        <div className="message-avatar">
          {firstOfRun && <UserAvatar userId={m.fromUserId} username={m.from} size={36} />}
        </div>
      )}
      <div className="message-body">
        {!m.outgoing && firstOfRun && (
          <div className="message-sender" data-testid="message-sender">
            <PersonName displayName={profile.displayName} username={m.from} withUsername={inGroup} />
          </div>
        )}
        <div className="message-line">
          {content}
          <div className="message-meta">
            {m.outgoing && m.status === "failed" && undelivered.length === 0 ? (
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
            {m.expiresIn !== undefined && m.expiresIn > 0 && (
              <span
                className="message-timer"
                title={t("msg.disappears")}
                role="img"
                aria-label={t("msg.disappears")}
              >
                <Icon name="timer" size={12} />
              </span>
            )}
            {m.edited && !m.deleted && (
              <span className="message-edited" data-testid="message-edited">
                {t("msg.edited")}
              </span>
            )}
            {m.outgoing && (
              <span
                className={`message-status status-${m.read ? "read" : m.status}`}
                title={t(
                  undelivered.length > 0 && m.status === "failed" ? "status.undelivered" : status.label,
                )}
                role="img"
                aria-label={t(
                  undelivered.length > 0 && m.status === "failed" ? "status.undelivered" : status.label,
                )}
                data-testid="message-status"
              >
                <Icon name={status.icon} size={14} />
                {m.read && <span className="read-label">{t("msg.read")}</span>}
              </span>
            )}
            {showTime && (
              <time className="message-time" dateTime={new Date(m.sentAt).toISOString()}>
                {formatClock(m.sentAt, language)}
              </time>
            )}
          </div>
          <button
            type="button"
            className="message-more"
            data-testid="message-more"
            aria-label={t("msg.moreActions")}
            title={t("msg.actions")}
            aria-haspopup="dialog"
            onClick={() => onOpenMenu(m)}
          >
            <Icon name="more" size={18} />
          </button>
        </div>
        {undelivered.map((u) => (
          <div className="message-undelivered" data-testid="message-undelivered" key={u.userId}>
            <Icon name="alert" size={13} />
            {t("msg.undeliveredTo", { name: u.username, reason: u.reason })}
          </div>
        ))}
        {reactions.length > 0 && (
          <div
            className="reactions"
            role="group"
            aria-label={t("msg.reactionsLabel")}
            data-testid="reactions"
          >
            {reactions.map(([emoji, users]) => (
              <button
                key={emoji}
                type="button"
                className="chip reaction"
                data-testid="reaction"
                data-emoji={emoji}
                data-count={users.length}
                aria-pressed={users.includes(client.userId)}
                aria-label={t("msg.reactionBy", { emoji, count: users.length })}
                disabled={!chat.active}
                onClick={() => react(emoji)}
              >
                <span aria-hidden="true">{emoji}</span>
                <span aria-hidden="true">{users.length}</span>
              </button>
            ))}
          </div>
        )}
      </div>
    </div>
  );
}
