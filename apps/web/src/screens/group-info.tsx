import type { ChatSummary } from "@sori/sdk";
import { USERNAME_PATTERN } from "@sori/protocol";
import { type FormEvent, type ReactNode, useEffect, useId, useState } from "react";
import { UserAvatar } from "../components/avatar.tsx";
import { ChatAvatar } from "../components/chat-avatar.tsx";
import { ConfirmAction } from "../components/confirm-action.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useChats } from "../hooks/use-chats.ts";
import { navigate } from "../hooks/use-hash-route.ts";
import { useProfile } from "../hooks/use-profile.ts";
import { UnknownChatPane } from "../components/unknown-chat-pane.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { IconButton } from "../components/icon-button.tsx";
import { PersonName } from "../components/person-name.tsx";
import { nameWithUsername } from "../lib/person-name.ts";
import { SafetyDialog } from "./safety-dialog.tsx";
import "./group-info.css";
import "./settings-section.css";

const GROUP_NAME_MAX = 64;

/** A group's details: rename it, see, add and remove members, and leave. */
export function GroupInfo({ chatId }: { chatId: string }): ReactNode {
  const chats = useChats();
  const chat = chats?.find((c) => c.id === chatId);
  if (!chats) return <section className="pane" aria-busy="true" />;
  if (!chat || chat.kind !== "group") return <UnknownChatPane />;
  return <GroupInfoView chat={chat} />;
}

function GroupInfoView({ chat }: { chat: ChatSummary }): ReactNode {
  const { t, tp } = useI18n();
  const { client, chats } = useSignedIn();
  const { showToast } = useToast();
  const [name, setName] = useState(chat.name);
  const [renaming, setRenaming] = useState(false);
  const [candidate, setCandidate] = useState("");
  const [adding, setAdding] = useState(false);
  const [addError, setAddError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const ids = { name: useId(), add: useId(), members: useId() };

  // Someone else may rename the group while this screen is open.
  useEffect(() => setName(chat.name), [chat.name]);

  const rename = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const next = name.trim();
    if (!next || next === chat.name) return;
    setRenaming(true);
    try {
      await client.renameGroup(chat.id, next);
      showToast(t("group.renamed"));
    } catch (err) {
      showToast(t(errorMessageKey(err)));
    } finally {
      setRenaming(false);
    }
  };

  const add = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const u = candidate.trim().replace(/^@/, "");
    if (!USERNAME_PATTERN.test(u)) return setAddError(t("auth.usernameInvalid"));
    if (chat.members.some((m) => m.toLowerCase() === u.toLowerCase()))
      return setAddError(t("group.alreadyMember"));
    setAdding(true);
    setAddError(null);
    try {
      await client.addMember(chat.id, u);
      // The SDK announces member changes it receives; its own commit does not emit "chat", so reload.
      chats.refresh();
      setCandidate("");
    } catch (err) {
      setAddError(t(errorMessageKey(err)));
    } finally {
      setAdding(false);
    }
  };

  const leave = async (): Promise<void> => {
    setLeaving(true);
    try {
      await client.leaveGroup(chat.id);
      navigate({ name: "list" });
    } catch (err) {
      showToast(t(errorMessageKey(err)));
      setLeaving(false);
    }
  };

  return (
    <section className="pane" aria-labelledby={ids.members} data-testid="group-info">
      <header className="pane-header">
        <IconButton
          icon="back"
          label={t("group.backToChat")}
          data-testid="group-info-back"
          onClick={() => navigate({ name: "chat", chatId: chat.id })}
        />
        <div className="pane-title">
          <h2>{t("group.info")}</h2>
        </div>
      </header>
      <div className="pane-scroll">
        <div className="profile-hero">
          <ChatAvatar chat={chat} size={80} />
          <h3 data-testid="group-info-name">{chat.name}</h3>
          <p className="muted">{tp("group.memberCount", chat.members.length)}</p>
        </div>

        {!chat.active && <p className="notice">{t("chat.inactive")}</p>}

        {chat.active && (
          <section className="settings-section">
            <h3>{t("group.nameSection")}</h3>
            <form className="inline-form" onSubmit={(e) => void rename(e)}>
              <label htmlFor={ids.name} className="visually-hidden">
                {t("newGroup.name")}
              </label>
              <input
                id={ids.name}
                className="input"
                data-testid="group-rename-input"
                value={name}
                maxLength={GROUP_NAME_MAX}
                onChange={(e) => setName(e.target.value)}
              />
              <button
                type="submit"
                className="button"
                data-testid="group-rename-save"
                disabled={renaming || !name.trim() || name.trim() === chat.name}
              >
                {t("common.save")}
              </button>
            </form>
          </section>
        )}

        <section className="settings-section">
          <h3 id={ids.members}>{tp("group.membersTitle", chat.members.length)}</h3>
          <ul className="member-list" data-testid="member-list">
            {chat.members.map((username, i) => (
              <MemberRow
                key={chat.memberIds[i] ?? username}
                chat={chat}
                username={username}
                userId={chat.memberIds[i] ?? ""}
              />
            ))}
          </ul>
          {chat.active && (
            <form className="inline-form" onSubmit={(e) => void add(e)}>
              <label htmlFor={ids.add} className="visually-hidden">
                {t("group.addMember")}
              </label>
              <input
                id={ids.add}
                className="input"
                data-testid="add-member-input"
                value={candidate}
                placeholder={t("newGroup.addByUsername")}
                onChange={(e) => setCandidate(e.target.value)}
                autoComplete="off"
                autoCapitalize="none"
                spellCheck={false}
              />
              <button
                type="submit"
                className="button"
                data-testid="add-member-submit"
                disabled={adding || !candidate.trim()}
              >
                {adding ? t("group.adding") : t("common.add")}
              </button>
            </form>
          )}
          {addError && (
            <p className="form-error" role="alert">
              {addError}
            </p>
          )}
        </section>

        {chat.active && (
          <section className="settings-section">
            <ConfirmAction
              label={t("group.leave")}
              prompt={t("group.leaveConfirm")}
              busy={leaving}
              onConfirm={() => void leave()}
              testId="leave-group"
            />
          </section>
        )}
      </div>
    </section>
  );
}

function MemberRow({
  chat,
  username,
  userId,
}: {
  chat: ChatSummary;
  username: string;
  userId: string;
}): ReactNode {
  const { t } = useI18n();
  const { client, chats } = useSignedIn();
  const { showToast } = useToast();
  const profile = useProfile(userId || null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [safetyOpen, setSafetyOpen] = useState(false);
  const me = userId === client.userId;
  // Where a display name is used as a label (safety, removing), the username goes with it.
  const shown = nameWithUsername(profile.displayName, username);

  const remove = async (): Promise<void> => {
    setBusy(true);
    try {
      await client.removeMember(chat.id, username);
      chats.refresh();
    } catch (err) {
      showToast(t(errorMessageKey(err)));
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <li className="member-row" data-testid="member" data-username={username}>
      <UserAvatar userId={userId} username={username} size={40} />
      <span className="member-names">
        <span className="member-name">
          <PersonName displayName={profile.displayName} username={username} withUsername={false} />
          {me && <span className="tag">{t("group.you")}</span>}
        </span>
        <span className="muted">@{username}</span>
      </span>
      {!me && (
        <IconButton
          icon="shield"
          label={t("safety.open", { name: shown })}
          data-testid="member-safety"
          onClick={() => setSafetyOpen(true)}
        />
      )}
      {safetyOpen && <SafetyDialog username={username} name={shown} onClose={() => setSafetyOpen(false)} />}
      {!me && chat.active && (
        <span className="member-actions">
          {confirming ? (
            <>
              <button type="button" className="button small" onClick={() => setConfirming(false)}>
                {t("common.cancel")}
              </button>
              <button
                type="button"
                className="button small danger"
                data-testid="remove-member-confirm"
                disabled={busy}
                onClick={() => void remove()}
              >
                {t("group.remove")}
              </button>
            </>
          ) : (
            <button
              type="button"
              className="button small"
              data-testid="remove-member"
              aria-label={t("group.removeNamed", { name: shown })}
              onClick={() => setConfirming(true)}
            >
              {t("group.remove")}
            </button>
          )}
        </span>
      )}
    </li>
  );
}
