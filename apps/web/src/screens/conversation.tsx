import type { ChatSummary } from "@sori/sdk";
import { type ReactNode, useEffect, useState } from "react";
import { Composer } from "../components/composer.tsx";
import { ConversationHeader } from "../components/conversation-header.tsx";
import { MessageList } from "../components/message-list.tsx";
import { useChats } from "../hooks/use-chats.ts";
import { useMessages } from "../hooks/use-messages.ts";
import { UnknownChatPane } from "../components/unknown-chat-pane.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";

/** One open chat: header, messages and composer. */
export function Conversation({ chatId }: { chatId: string }): ReactNode {
  const { client } = useSignedIn();
  const chats = useChats();
  const listed = chats?.find((c) => c.id === chatId);
  // A chat created a moment ago may not be in the list yet: ask the SDK directly.
  const [fetched, setFetched] = useState<ChatSummary | null | undefined>(undefined);
  useEffect(() => {
    if (listed || chats === null) return;
    let cancelled = false;
    client
      .findChat(chatId)
      .then((c) => !cancelled && setFetched(c ?? null))
      .catch(() => !cancelled && setFetched(null));
    return () => {
      cancelled = true;
    };
  }, [client, chatId, listed, chats]);
  const chat = listed ?? fetched ?? null;

  if (!chat) {
    if (fetched === null) return <UnknownChatPane />;
    return <section className="pane" aria-busy="true" />;
  }
  return <ConversationView chat={chat} />;
}

function ConversationView({ chat }: { chat: ChatSummary }): ReactNode {
  const { client, chats } = useSignedIn();
  const { t } = useI18n();
  const messages = useMessages(client, chat.id);

  // Mark as read when opened, when something new comes in while the page is visible, and when the
  // person comes back to the tab.
  const lastIncoming = messages.messages.findLast((m) => !m.outgoing)?.id;
  useEffect(() => {
    const markRead = (): void => {
      if (document.visibilityState !== "visible") return;
      client
        .markRead(chat.id)
        .then(() => chats.refresh())
        .catch(() => undefined);
    };
    markRead();
    document.addEventListener("visibilitychange", markRead);
    return () => document.removeEventListener("visibilitychange", markRead);
  }, [client, chats, chat.id, lastIncoming]);

  return (
    <section
      className="pane conversation"
      aria-label={t("chat.label", { name: chat.name })}
      data-testid="conversation"
    >
      <ConversationHeader chat={chat} />
      <MessageList chat={chat} {...messages} />
      <Composer chat={chat} />
    </section>
  );
}
