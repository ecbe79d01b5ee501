import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { useChats } from "../hooks/use-chats.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { ChatAvatar } from "./chat-avatar.tsx";
import { Dialog } from "./dialog.tsx";
import { useToast } from "./toast-provider.tsx";
import { useChatTitle } from "../hooks/use-chat-title.ts";
import "./forward-dialog.css";

function ForwardTarget({
  chat,
  busy,
  onPick,
}: {
  chat: ChatSummary;
  busy: boolean;
  onPick: (chat: ChatSummary, title: string) => void;
}): ReactNode {
  const title = useChatTitle(chat);
  return (
    <li>
      <button
        type="button"
        className="forward-target"
        data-testid="forward-target"
        data-chat-name={chat.name}
        disabled={busy}
        onClick={() => onPick(chat, title)}
      >
        <ChatAvatar chat={chat} size={36} />
        <span>{title}</span>
      </button>
    </li>
  );
}

/** Picks the chat to forward a message to; the copy there is marked "forwarded". */
export function ForwardDialog({
  message,
  fromChat,
  onClose,
}: {
  message: ChatMessage;
  fromChat: string;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client, chats: chatsStore } = useSignedIn();
  const { showToast } = useToast();
  const chats = (useChats() ?? []).filter((c) => c.active);
  const [busy, setBusy] = useState(false);

  const pick = (chat: ChatSummary, title: string): void => {
    setBusy(true);
    client
      .forward(fromChat, message.id, chat.id)
      .then(() => {
        showToast(t("forward.done", { name: title }));
        void chatsStore.refresh();
        onClose();
      })
      .catch((e: unknown) => {
        showToast(t(errorMessageKey(e)));
        setBusy(false);
      });
  };

  return (
    <Dialog title={t("forward.title")} onClose={onClose} testId="forward-dialog">
      {chats.length === 0 ? (
        <p className="muted">{t("forward.none")}</p>
      ) : (
        <ul className="forward-list">
          {chats.map((c) => (
            <ForwardTarget key={c.id} chat={c} busy={busy} onPick={pick} />
          ))}
        </ul>
      )}
    </Dialog>
  );
}
