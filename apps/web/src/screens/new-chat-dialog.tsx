import { USERNAME_PATTERN } from "@sori/protocol";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { Dialog } from "../components/dialog.tsx";
import { DialogFormFooter } from "../components/dialog-form-footer.tsx";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";

/** Starts (or reopens) a 1:1 chat with a username. */
export function NewChatDialog({ onClose }: { onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const [username, setUsername] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const name = username.trim().replace(/^@/, "");
    if (!USERNAME_PATTERN.test(name)) return setError(t("auth.usernameInvalid"));
    if (name.toLowerCase() === client.username.toLowerCase()) return setError(t("newChat.self"));
    setBusy(true);
    setError(null);
    try {
      const chat = await client.startDirectChat(name);
      onClose();
      navigate({ name: "chat", chatId: chat.id });
    } catch (err) {
      setError(t(errorMessageKey(err), { username: name }));
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("chats.newChat")} onClose={onClose} testId="new-chat-dialog">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field" htmlFor={inputId}>
          <span>{t("newChat.username")}</span>
          <input
            id={inputId}
            className="input"
            data-testid="new-chat-username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            placeholder={t("newChat.placeholder")}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            autoFocus
          />
        </label>
        <DialogFormFooter
          error={error}
          errorTestId="new-chat-error"
          onCancel={onClose}
          submitTestId="new-chat-submit"
          busy={busy}
          disabled={!username.trim()}
          label={t("newChat.start")}
          busyLabel={t("newChat.starting")}
        />
      </form>
    </Dialog>
  );
}
