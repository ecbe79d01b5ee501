import { USERNAME_PATTERN } from "@sori/protocol";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { Dialog } from "../components/dialog.tsx";
import { DialogFormFooter } from "../components/dialog-form-footer.tsx";
import { Icon } from "../components/icon.tsx";
import { useChats } from "../hooks/use-chats.ts";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./new-group-dialog.css";

const GROUP_NAME_MAX = 64;

/** Creates a group: a name and members, picked from people you chat with or added by username. */
export function NewGroupDialog({ onClose }: { onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const chats = useChats();
  const [name, setName] = useState("");
  const [members, setMembers] = useState<string[]>([]);
  const [candidate, setCandidate] = useState("");
  const [checking, setChecking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), member: useId() };

  // People from direct chats are one tap away.
  const known = [...new Set((chats ?? []).filter((c) => c.kind === "direct").map((c) => c.name))].sort(
    (a, b) => a.localeCompare(b),
  );
  const has = (u: string): boolean => members.some((m) => m.toLowerCase() === u.toLowerCase());
  const toggle = (u: string): void => setMembers((ms) => (has(u) ? ms.filter((m) => m !== u) : [...ms, u]));

  const addCandidate = async (): Promise<void> => {
    const u = candidate.trim().replace(/^@/, "");
    if (!u) return;
    if (!USERNAME_PATTERN.test(u)) return setError(t("auth.usernameInvalid"));
    if (u.toLowerCase() === client.username.toLowerCase()) return setError(t("newGroup.self"));
    if (has(u)) return setCandidate("");
    setChecking(true);
    setError(null);
    try {
      const found = await client.findUser(u);
      if (!found) setError(t("error.unknownUser"));
      else {
        setMembers((ms) => [...ms, found.username]);
        setCandidate("");
      }
    } catch (err) {
      setError(t(errorMessageKey(err)));
    } finally {
      setChecking(false);
    }
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!name.trim()) return setError(t("newGroup.nameRequired"));
    if (members.length === 0) return setError(t("newGroup.membersRequired"));
    setBusy(true);
    setError(null);
    try {
      const chat = await client.createGroup(name.trim(), members);
      onClose();
      navigate({ name: "chat", chatId: chat.id });
    } catch (err) {
      setError(t(errorMessageKey(err)));
      setBusy(false);
    }
  };

  const suggestions = [...new Set([...known, ...members])];

  return (
    <Dialog title={t("chats.newGroup")} onClose={onClose} testId="new-group-dialog">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field" htmlFor={ids.name}>
          <span>{t("newGroup.name")}</span>
          <input
            id={ids.name}
            className="input"
            data-testid="group-name"
            value={name}
            maxLength={GROUP_NAME_MAX}
            onChange={(e) => setName(e.target.value)}
            placeholder={t("newGroup.namePlaceholder")}
            autoFocus
          />
        </label>
        <fieldset className="field">
          <legend>{t("newGroup.members")}</legend>
          {suggestions.length > 0 && (
            <div className="chips">
              {suggestions.map((u) => (
                <button
                  key={u}
                  type="button"
                  className="chip"
                  aria-pressed={has(u)}
                  data-testid="group-member-chip"
                  onClick={() => toggle(u)}
                >
                  {has(u) && <Icon name="check" size={14} />}
                  {u}
                </button>
              ))}
            </div>
          )}
          <div className="inline-form">
            <label htmlFor={ids.member} className="visually-hidden">
              {t("newGroup.addByUsername")}
            </label>
            <input
              id={ids.member}
              className="input"
              data-testid="group-member-input"
              value={candidate}
              onChange={(e) => setCandidate(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  void addCandidate();
                }
              }}
              placeholder={t("newGroup.addByUsername")}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
            />
            <button
              type="button"
              className="button"
              data-testid="group-member-add"
              onClick={() => void addCandidate()}
              disabled={checking || !candidate.trim()}
            >
              {t("common.add")}
            </button>
          </div>
          <p className="field-hint" aria-live="polite">
            {members.length === 0
              ? t("newGroup.noneYet")
              : t("newGroup.selected", { names: members.join(", ") })}
          </p>
        </fieldset>
        <DialogFormFooter
          error={error}
          errorTestId="new-group-error"
          onCancel={onClose}
          submitTestId="group-create"
          busy={busy}
          label={t("newGroup.create")}
          busyLabel={t("newGroup.creating")}
        />
      </form>
    </Dialog>
  );
}
