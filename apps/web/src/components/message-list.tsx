import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useCallback, useLayoutEffect, useRef } from "react";
import type { MessagesState } from "../hooks/use-messages.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { dayKey, formatDay } from "../lib/format-time.ts";
import { jumpToMessage, takePendingJump } from "../lib/jump.ts";
import { MessageItem } from "./message-item.tsx";
import "./message-list.css";

/** Closer than this to the bottom counts as "reading the newest": new messages then scroll into view. */
const STICKY_PX = 120;
/** Closer than this to the top loads the previous page of history. */
const LOAD_OLDER_PX = 300;

const sameMinute = (a: number, b: number): boolean => Math.floor(a / 60_000) === Math.floor(b / 60_000);

/**
 * The scrolling message log: day separators, messages grouped into runs by sender, older history
 * loaded when scrolled near the top (keeping the view still), and new messages followed when the
 * person is at the bottom.
 */
export function MessageList({
  chat,
  messages,
  loaded,
  hasOlder,
  loadingOlder,
  loadOlder,
  onOpenMenu,
}: MessagesState & {
  chat: ChatSummary;
  loadOlder: () => Promise<void>;
  onOpenMenu: (m: ChatMessage) => void;
}): ReactNode {
  const { t, language } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  const last = useRef({ scrollHeight: 0, scrollTop: 0, atBottom: true, firstId: "", lastId: "" });

  const remember = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    last.current.scrollHeight = el.scrollHeight;
    last.current.scrollTop = el.scrollTop;
    last.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < STICKY_PX;
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = messages[0]?.id ?? "";
    const newest = messages.at(-1);
    const prev = last.current;
    if (prev.lastId === "" && newest) {
      el.scrollTop = el.scrollHeight;
    } else if (first !== prev.firstId && newest?.id === prev.lastId) {
      // Older messages were added above: keep what the person was reading in place.
      el.scrollTop = el.scrollHeight - prev.scrollHeight + prev.scrollTop;
    } else if (newest && newest.id !== prev.lastId && (prev.atBottom || newest.outgoing)) {
      el.scrollTop = el.scrollHeight;
    }
    prev.firstId = first;
    prev.lastId = newest?.id ?? "";
    remember();
    // A search result opened this chat to show one message.
    const target = takePendingJump((id) => messages.some((m) => m.id === id));
    if (target) jumpToMessage(target);
  }, [messages, remember]);

  // When the composer grows or the window resizes, stay at the bottom if that is where the person was.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      if (last.current.atBottom) el.scrollTop = el.scrollHeight;
      remember();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [remember]);

  const onScroll = (): void => {
    remember();
    const el = ref.current;
    if (el && el.scrollTop < LOAD_OLDER_PX && hasOlder && !loadingOlder) void loadOlder();
  };

  const deletedIds = new Set(messages.filter((m) => m.deleted).map((m) => m.id));
  const rows: ReactNode[] = [];
  messages.forEach((m: ChatMessage, i) => {
    const prev = messages[i - 1];
    const next = messages[i + 1];
    const newDay = !prev || dayKey(prev.sentAt) !== dayKey(m.sentAt);
    if (newDay)
      rows.push(
        <div key={`day-${dayKey(m.sentAt)}-${m.id}`} className="day-separator" role="separator">
          <span>{formatDay(m.sentAt, language)}</span>
        </div>,
      );
    const firstOfRun =
      newDay || !prev || prev.fromUserId !== m.fromUserId || prev.kind === "system" || m.kind === "system";
    const lastOfRun =
      !next ||
      next.fromUserId !== m.fromUserId ||
      next.kind === "system" ||
      dayKey(next.sentAt) !== dayKey(m.sentAt) ||
      !sameMinute(next.sentAt, m.sentAt);
    rows.push(
      <MessageItem
        key={m.id}
        message={m}
        chat={chat}
        firstOfRun={firstOfRun}
        showTime={lastOfRun}
        onOpenMenu={onOpenMenu}
        quoteDeleted={m.replyTo !== undefined && deletedIds.has(m.replyTo.id)}
      />,
    );
  });

  return (
    <div
      ref={ref}
      className="messages"
      role="log"
      aria-label={t("chat.messages")}
      data-testid="message-list"
      onScroll={onScroll}
      tabIndex={0}
    >
      {loadingOlder && <p className="list-note muted">{t("chat.loadingOlder")}</p>}
      {loaded && !hasOlder && messages.length > 0 && (
        <p className="history-start muted">{t("chat.historyStart")}</p>
      )}
      {loaded && messages.length === 0 && (
        <p className="history-start muted">{chat.active ? t("chat.emptyHint") : t("chat.inactive")}</p>
      )}
      {rows}
    </div>
  );
}
