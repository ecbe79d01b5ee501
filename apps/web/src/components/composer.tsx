import { type ChatSummary, SdkError } from "@sori/sdk";
import { type KeyboardEvent, type ReactNode, useEffect, useLayoutEffect, useRef, useState } from "react";
import { SORI_PACK, type SoriStickerId } from "../emoticons/sori-pack.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { EmoticonPicker } from "./emoticon-picker.tsx";
import { Icon } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";
import { IconButton } from "./icon-button.tsx";

/** Unsent text per chat, kept while the person looks at other chats. */
const drafts = new Map<string, string>();

const MAX_ROWS_PX = 140;

const QUIET_SEND_ERRORS = new Set(["offline", "timeout", "conflict"]);

/** Text box with emoticons: Enter sends, Shift+Enter starts a new line. */
export function Composer({ chat }: { chat: ChatSummary }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [text, setText] = useState(() => drafts.get(chat.id) ?? "");
  const [pickerOpen, setPickerOpen] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const emoticonButton = useRef<HTMLButtonElement>(null);

  // Ready to type when a chat opens on a desktop; on a phone that would pop up the keyboard uninvited.
  useEffect(() => {
    if (window.matchMedia("(min-width: 768px) and (pointer: fine)").matches) input.current?.focus();
  }, [chat.id]);

  useLayoutEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_ROWS_PX)}px`;
  }, [text]);

  const update = (value: string): void => {
    setText(value);
    if (value) drafts.set(chat.id, value);
    else drafts.delete(chat.id);
  };

  if (!chat.active)
    return (
      <div className="composer inactive" role="note">
        {t("chat.inactive")}
      </div>
    );

  // A message that could not be sent stays in the list as "not sent" with a retry button; a toast
  // adds the reason only when it is something retrying will not fix.
  const report = (error: unknown): void => {
    if (error instanceof SdkError && QUIET_SEND_ERRORS.has(error.code)) return;
    showToast(t(errorMessageKey(error)));
  };

  const send = (): void => {
    const body = text.trim();
    if (!body) return;
    update("");
    // The SDK shows the message at once as "sending"; a failure marks it "failed" with a retry button.
    client.sendText(chat.id, body).catch(report);
    input.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    // While an IME (Korean, Japanese…) is composing, Enter confirms the syllable, it does not send.
    if (e.key !== "Enter" || e.shiftKey || e.nativeEvent.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  };

  const sendSticker = (id: SoriStickerId): void => {
    setPickerOpen(false);
    client.sendSticker(chat.id, { pack: SORI_PACK, id }).catch(report);
    input.current?.focus();
  };

  const insertEmoji = (emoji: string): void => {
    const el = input.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    update(text.slice(0, start) + emoji + text.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + emoji.length, start + emoji.length);
    });
  };

  return (
    <div className="composer">
      {pickerOpen && (
        <EmoticonPicker
          onSticker={sendSticker}
          onEmoji={insertEmoji}
          onClose={(restoreFocus) => {
            setPickerOpen(false);
            if (restoreFocus) emoticonButton.current?.focus();
          }}
          toggle={emoticonButton}
        />
      )}
      <IconButton
        ref={emoticonButton}
        icon="smile"
        iconSize={24}
        label={t("composer.emoticons")}
        data-testid="emoticon-button"
        aria-haspopup="dialog"
        aria-expanded={pickerOpen}
        onClick={() => setPickerOpen((o) => !o)}
      />
      <textarea
        ref={input}
        className="composer-input"
        data-testid="composer"
        rows={1}
        value={text}
        placeholder={t("composer.placeholder")}
        aria-label={t("composer.label")}
        onChange={(e) => update(e.target.value)}
        onKeyDown={onKeyDown}
        enterKeyHint="send"
      />
      <button
        type="button"
        className="send-button"
        data-testid="send-button"
        aria-label={t("composer.send")}
        title={t("composer.send")}
        disabled={!text.trim()}
        onClick={send}
      >
        <Icon name="send" size={20} />
      </button>
    </div>
  );
}
