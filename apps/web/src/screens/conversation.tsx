import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { lazy, type ReactNode, Suspense, useEffect, useMemo, useState } from "react";
import { Composer, type ComposerMode } from "../components/composer.tsx";
import {
  type ConversationSafety,
  ConversationSafetyContext,
} from "../components/conversation-safety-context.ts";
import { ContactRequestBanner } from "../components/contact-request-banner.tsx";
import { SafetyChangeBanner } from "../components/safety-change-banner.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useAcceptSafetyChange } from "../hooks/use-accept-safety-change.ts";
import { usePendingContactRequest } from "../hooks/use-contact-request.ts";
import { useSafetyChanges } from "../hooks/use-safety-changes.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { ForwardDialog } from "../components/forward-dialog.tsx";
import { MessageMenu } from "../components/message-menu.tsx";
import { useTyping } from "../hooks/use-typing.ts";
import { ConversationHeader } from "../components/conversation-header.tsx";
import { MessageList } from "../components/message-list.tsx";
import { useChats } from "../hooks/use-chats.ts";
import { useMessages } from "../hooks/use-messages.ts";
import { UnknownChatPane } from "../components/unknown-chat-pane.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import "./conversation.css";

/** How long new messages settle before they are marked read. */
const MARK_READ_DELAY_MS = 300;

const SafetyDialog = lazy(() => import("./safety-dialog.tsx").then((m) => ({ default: m.SafetyDialog })));

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
  const { showToast } = useToast();
  const messages = useMessages(client, chat.id);
  const typists = useTyping(client, chat.id);
  const [menuFor, setMenuFor] = useState<string | null>(null);
  const [forwardOf, setForwardOf] = useState<ChatMessage | null>(null);
  const [mode, setMode] = useState<ComposerMode>(null);
  const [safetyWith, setSafetyWith] = useState<string | null>(null);
  const changes = useSafetyChanges(client, chat);
  const { accepting, accept } = useAcceptSafetyChange(client);
  const contactRequest = usePendingContactRequest(client, chat);
  const safety = useMemo<ConversationSafety>(
    () => ({
      changed: new Set(changes.map((c) => c.userId)),
      openSafety: setSafetyWith,
      acceptChange: (username) => {
        accept(username).catch((e: unknown) => showToast(t(errorMessageKey(e))));
      },
      accepting,
    }),
    [changes, accept, accepting, showToast, t],
  );
  // The menu follows the live message: a reaction or edit arriving meanwhile shows at once, and a
  // message that disappears closes its menu.
  const menuMessage = menuFor ? (messages.messages.find((m) => m.id === menuFor) ?? null) : null;
  // Replying to or editing a message that was deleted or disappeared meanwhile ends that mode.
  const modeTarget = mode ? messages.messages.find((m) => m.id === mode.message.id) : undefined;
  const liveMode: ComposerMode = mode && modeTarget && !modeTarget.deleted ? mode : null;

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
    // A burst of incoming messages is read once, not once per message (each read sends a receipt).
    const timer = window.setTimeout(markRead, MARK_READ_DELAY_MS);
    document.addEventListener("visibilitychange", markRead);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", markRead);
    };
  }, [client, chats, chat.id, lastIncoming]);

  return (
    <section
      className="pane conversation"
      aria-label={t("chat.label", { name: chat.name })}
      data-testid="conversation"
    >
      <ConversationSafetyContext value={safety}>
        <ConversationHeader chat={chat} typists={typists} onOpenSafety={setSafetyWith} />
        <MessageList chat={chat} {...messages} onOpenMenu={(m) => setMenuFor(m.id)} />
        {chat.active && <SafetyChangeBanner changes={changes} />}
        {chat.active && contactRequest && (
          <ContactRequestBanner
            request={contactRequest}
            onAnswer={(how) => {
              contactRequest.answer(how).catch((e: unknown) => showToast(t(errorMessageKey(e))));
            }}
          />
        )}
        <Composer chat={chat} mode={liveMode} onModeEnd={() => setMode(null)} blocked={changes.length > 0} />
      </ConversationSafetyContext>
      {menuMessage && (
        <MessageMenu
          message={menuMessage}
          chat={chat}
          onClose={() => setMenuFor(null)}
          onReply={(m) => setMode({ kind: "reply", message: m })}
          onEdit={(m) => setMode({ kind: "edit", message: m })}
          onForward={(m) => setForwardOf(m)}
        />
      )}
      {safetyWith && (
        <Suspense fallback={null}>
          <SafetyDialog username={safetyWith} name={safetyWith} onClose={() => setSafetyWith(null)} />
        </Suspense>
      )}
      {forwardOf && (
        <ForwardDialog message={forwardOf} fromChat={chat.id} onClose={() => setForwardOf(null)} />
      )}
    </section>
  );
}
