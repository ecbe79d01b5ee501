import { type ReactNode, useState } from "react";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { UserAvatar } from "./avatar.tsx";
import { useToast } from "./toast-provider.tsx";
import "./chat-list-item.css";
import "./person-result.css";

/** A person found by username in the search, with a button that starts a 1:1 chat. */
export function PersonResult({
  person,
  onStarted,
}: {
  person: { userId: string; username: string };
  onStarted: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [busy, setBusy] = useState(false);

  const start = async (): Promise<void> => {
    setBusy(true);
    try {
      const chat = await client.startDirectChat(person.username);
      onStarted();
      navigate({ name: "chat", chatId: chat.id });
    } catch (error) {
      showToast(t(errorMessageKey(error)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="person-result" data-testid="search-person">
      <p className="list-section-title">{t("chats.people")}</p>
      <button type="button" className="chat-item" onClick={() => void start()} disabled={busy}>
        <UserAvatar userId={person.userId} username={person.username} />
        <span className="chat-item-main">
          <span className="chat-item-name">{person.username}</span>
          <span className="chat-item-preview">{busy ? t("chats.starting") : t("chats.startWith")}</span>
        </span>
      </button>
    </div>
  );
}
