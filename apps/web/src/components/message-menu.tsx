import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useId, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { QUICK_EMOJI, REACTION_EMOJI, isReactionEmoji } from "../lib/emoji.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import { Icon, type IconName } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";
import "./message-menu.css";

export type MessageMenuActions = {
  onReply: (m: ChatMessage) => void;
  onEdit: (m: ChatMessage) => void;
  onForward: (m: ChatMessage) => void;
};

/**
 * What can be done with one message, opened by long-press, right-click or its "more" button: a row
 * of reactions (any emoji one step further), then reply, edit, copy, forward and delete. A native
 * dialog, so the keyboard and screen readers get focus handling and Esc for free.
 */
export function MessageMenu({
  message: m,
  chat,
  onClose,
  onReply,
  onEdit,
  onForward,
}: MessageMenuActions & { message: ChatMessage; chat: ChatSummary; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [moreEmoji, setMoreEmoji] = useState(false);
  const [anyEmoji, setAnyEmoji] = useState("");
  const [emojiError, setEmojiError] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const anyId = useId();

  const mine = (emoji: string): boolean => (m.reactions?.[emoji] ?? []).includes(client.userId);
  const canAct = chat.active && !m.deleted;
  // A file's caption can be edited, but a file sent without one has nothing to edit.
  const canEdit =
    canAct &&
    m.outgoing &&
    (m.kind === "text" || (m.kind === "file" && m.text !== "")) &&
    m.status !== "failed";
  const canDeleteForEveryone = chat.active && m.outgoing && !m.deleted && m.status !== "failed";
  const canCopy = !m.deleted && m.text !== "";

  // Every action closes the menu first; a failure then says why in a toast and changes nothing.
  const run = (action: () => Promise<unknown>): void => {
    setBusy(true);
    action()
      .then(() => onClose())
      .catch((error: unknown) => {
        showToast(t(errorMessageKey(error)));
        setBusy(false);
      });
  };

  const react = (emoji: string): void => run(() => client.react(chat.id, m.id, emoji));
  /** One emoji button: the quick row (with a test id) and the wider grid look and act the same. */
  const reactionChoice = (emoji: string, testId?: string): ReactNode => (
    <button
      key={emoji}
      type="button"
      className="reaction-choice"
      data-testid={testId}
      data-emoji={emoji}
      aria-pressed={mine(emoji)}
      disabled={busy}
      onClick={() => react(emoji)}
    >
      {emoji}
    </button>
  );

  const reactAny = (): void => {
    const emoji = anyEmoji.trim();
    if (!isReactionEmoji(emoji)) {
      setEmojiError(true);
      return;
    }
    react(emoji);
  };

  const item = (
    icon: IconName,
    label: string,
    testId: string,
    onClick: () => void,
    danger = false,
  ): ReactNode => (
    <li>
      <button
        type="button"
        className={danger ? "menu-item danger" : "menu-item"}
        data-testid={testId}
        disabled={busy}
        onClick={onClick}
      >
        <Icon name={icon} size={18} />
        <span>{label}</span>
      </button>
    </li>
  );

  if (confirmDelete)
    return (
      <Dialog title={t("menu.deleteForEveryone")} onClose={onClose} testId="message-menu">
        <p>{t("menu.deleteForEveryoneConfirm")}</p>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button
            type="button"
            className="button danger"
            data-testid="confirm-delete-everyone"
            disabled={busy}
            onClick={() => run(() => client.deleteForEveryone(chat.id, m.id))}
          >
            {t("menu.deleteForEveryone")}
          </button>
        </div>
      </Dialog>
    );

  return (
    <Dialog title={t("menu.title")} onClose={onClose} testId="message-menu">
      {canAct && (
        <div className="reaction-picker" role="group" aria-label={t("menu.react")}>
          <div className="reaction-row">
            {REACTION_EMOJI.map((emoji) => reactionChoice(emoji, "reaction-choice"))}
            <button
              type="button"
              className="reaction-choice more"
              aria-label={t("menu.moreEmoji")}
              title={t("menu.moreEmoji")}
              aria-expanded={moreEmoji}
              data-testid="reaction-more"
              onClick={() => setMoreEmoji((x) => !x)}
            >
              <Icon name="plus" size={18} />
            </button>
          </div>
          {moreEmoji && (
            <>
              <div className="reaction-grid">{QUICK_EMOJI.map((emoji) => reactionChoice(emoji))}</div>
              <form
                className="inline-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  reactAny();
                }}
              >
                <label htmlFor={anyId} className="visually-hidden">
                  {t("menu.anyEmoji")}
                </label>
                <input
                  id={anyId}
                  className="input"
                  data-testid="reaction-any"
                  placeholder={t("menu.anyEmojiHint")}
                  value={anyEmoji}
                  aria-invalid={emojiError}
                  onChange={(e) => {
                    setAnyEmoji(e.target.value);
                    setEmojiError(false);
                  }}
                  autoComplete="off"
                />
                <button type="submit" className="button" disabled={busy || !anyEmoji.trim()}>
                  {t("menu.react")}
                </button>
              </form>
              {emojiError && (
                <p className="form-error" role="alert">
                  {t("menu.notEmoji")}
                </p>
              )}
            </>
          )}
        </div>
      )}
      <ul className="menu-list">
        {canAct &&
          m.status !== "failed" &&
          item("reply", t("menu.reply"), "menu-reply", () => {
            onReply(m);
            onClose();
          })}
        {canEdit &&
          item("edit", t("menu.edit"), "menu-edit", () => {
            onEdit(m);
            onClose();
          })}
        {canCopy &&
          item("copy", t("menu.copy"), "menu-copy", () =>
            run(async () => {
              await navigator.clipboard.writeText(m.text);
              showToast(t("menu.copied"));
            }),
          )}
        {!m.deleted &&
          m.status !== "failed" &&
          item("forward", t("menu.forward"), "menu-forward", () => {
            onForward(m);
            onClose();
          })}
        {canDeleteForEveryone &&
          item(
            "trash",
            t("menu.deleteForEveryone"),
            "menu-delete-everyone",
            () => setConfirmDelete(true),
            true,
          )}
        {item(
          "trash",
          t("menu.deleteHere"),
          "menu-delete-here",
          () => run(() => client.deleteLocally(chat.id, m.id)),
          true,
        )}
      </ul>
    </Dialog>
  );
}
