import type { ChatMessage, ChatSummary } from "@sori/sdk";
import type { ReactNode } from "react";
import { callHistoryLabel } from "../calls/call-history-label.ts";
import { STICKER_LABELS, isSoriStickerId } from "../emoticons/sori-pack.ts";
import { useChatTitle } from "../hooks/use-chat-title.ts";
import { routeHash } from "../hooks/use-hash-route.ts";
import { type I18n, useI18n } from "../i18n/i18n-context.tsx";
import { formatListTime } from "../lib/format-time.ts";
import { systemEventText } from "../lib/system-event-text.ts";
import { ChatAvatar } from "./chat-avatar.tsx";
import { Icon } from "./icon.tsx";
import "./chat-list-item.css";

/** The first line of a text, the sticker's name, or the call. */
function messagePreview(m: ChatMessage, t: I18n["t"]): string {
  if (m.kind === "call" && m.call) return callHistoryLabel(m.call, t);
  if (m.deleted) return t("msg.deleted");
  if (m.kind === "sticker-pack") return t("preview.pack", { name: m.stickerPack?.name ?? "" });
  if (m.kind === "system" && m.system) return systemEventText(m.system, t, m.outgoing);
  if (m.kind === "file" && m.file && !m.text) {
    if (m.file.voice) return t("preview.voice");
    if (m.file.mime.startsWith("image/")) return t("preview.photo");
    return t("preview.file", { name: m.file.name });
  }
  if (m.kind === "sticker") {
    const id = m.sticker?.id ?? "";
    return t("preview.sticker", { label: isSoriStickerId(id) ? t(STICKER_LABELS[id]) : "" }).trim();
  }
  return m.text.split("\n")[0] ?? "";
}

/** One row of the chat list: avatar, name, last message, time and unread count. */
export function ChatListItem({ chat, selected }: { chat: ChatSummary; selected: boolean }): ReactNode {
  const { t, tp, language } = useI18n();
  const title = useChatTitle(chat);
  const last = chat.lastMessage;

  const preview = last
    ? chat.kind === "group" && last.kind !== "system"
      ? t("preview.from", {
          name: last.outgoing ? t("preview.me") : last.from,
          text: messagePreview(last, t),
        })
      : messagePreview(last, t)
    : !chat.active
      ? t("chat.inactive")
      : chat.kind === "group"
        ? tp("group.memberCount", chat.members.length)
        : t("preview.empty");

  const when = chat.lastMessageAt ?? last?.sentAt ?? null;

  return (
    <li>
      <a
        href={routeHash({ name: "chat", chatId: chat.id })}
        className="chat-item"
        data-testid="chat-item"
        data-chat-id={chat.id}
        data-chat-name={chat.name}
        data-unread={chat.unread}
        aria-current={selected ? "page" : undefined}
      >
        <ChatAvatar chat={chat} />
        <span className="chat-item-main">
          <span className="chat-item-top">
            <span className="chat-item-name">
              {title}
              {chat.kind === "group" && <span className="chat-item-count">{chat.members.length}</span>}
            </span>
            {when !== null && (
              <time className="chat-item-time" dateTime={new Date(when).toISOString()}>
                {formatListTime(when, Date.now(), language, t("time.yesterday"))}
              </time>
            )}
          </span>
          <span className="chat-item-bottom">
            <span className="chat-item-preview" data-testid="chat-preview">
              {last?.outgoing && last.status === "failed" && <Icon name="alert" size={15} />}
              {preview}
            </span>
            {chat.unread > 0 && (
              <span
                className="unread-badge"
                data-testid="unread-badge"
                aria-label={tp("chats.unread", chat.unread)}
              >
                {chat.unread > 99 ? "99+" : chat.unread}
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
}
