import { type ChatMessage, type ChatSummary, SdkError } from "@sori/sdk";
import { type KeyboardEvent, type ReactNode, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { EmoticonPicker } from "./emoticon-picker.tsx";
import { StickerPackDialog } from "./sticker-pack-dialog.tsx";
import { Icon } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";
import { IconButton } from "./icon-button.tsx";
import { useProfile } from "../hooks/use-profile.ts";
import { MAX_VOICE_S, useVoiceRecorder } from "../hooks/use-voice-recorder.ts";
import { formatDuration } from "../lib/file-size.ts";
import { nameWithUsername } from "../lib/person-name.ts";
import { makeThumbnail } from "../lib/thumbnail.ts";
import "./composer.css";

/** Unsent text per chat, kept while the person looks at other chats. */
const drafts = new Map<string, string>();

const MAX_ROWS_PX = 140;

const QUIET_SEND_ERRORS = new Set(["offline", "timeout", "conflict"]);

/** What the next send does besides sending: quote a message, or replace the text of one. */
export type ComposerMode =
  { kind: "reply"; message: ChatMessage } | { kind: "edit"; message: ChatMessage } | null;

/**
 * Text box with emoticons: Enter sends, Shift+Enter starts a new line. In reply mode a preview of the
 * quoted message sits above it; in edit mode it holds the message's text and Enter saves it. While
 * `blocked` (a member's safety number changed and is not accepted) nothing can be sent; the draft stays.
 */
export function Composer({
  chat,
  mode,
  onModeEnd,
  blocked = false,
}: {
  chat: ChatSummary;
  mode: ComposerMode;
  onModeEnd: () => void;
  blocked?: boolean;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [text, setText] = useState(() => drafts.get(chat.id) ?? "");
  const [pickerOpen, setPickerOpen] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const emoticonButton = useRef<HTMLButtonElement>(null);
  const [saving, setSaving] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const voice = useVoiceRecorder();
  const [packDialog, setPackDialog] = useState(false);
  const quotedName = useProfile(
    mode?.kind === "reply" && !mode.message.outgoing ? mode.message.fromUserId : null,
  ).displayName;

  // Editing puts the message's text in the box (the draft comes back afterwards); replying keeps
  // the draft. Either way the box gets focus, as the person wants to type now.
  const editingId = mode?.kind === "edit" ? mode.message.id : null;
  const editText = mode?.kind === "edit" ? mode.message.text : "";
  useEffect(() => {
    if (editingId) setText(editText);
    else setText(drafts.get(chat.id) ?? "");
  }, [editingId, editText, chat.id]);
  const modeId = mode ? `${mode.kind}:${mode.message.id}` : "";
  useEffect(() => {
    if (modeId) input.current?.focus();
  }, [modeId]);

  // Tell the others when this person stops typing: on leaving the chat or closing the page.
  useEffect(() => {
    const stop = (): void => void client.setTyping(chat.id, false).catch(() => undefined);
    window.addEventListener("pagehide", stop);
    return () => {
      window.removeEventListener("pagehide", stop);
      stop();
    };
  }, [client, chat.id]);

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

  /** Sets the box's text; `sent` means it was emptied by sending, which needs no "stopped typing". */
  const update = (value: string, sent = false): void => {
    setText(value);
    if (editingId) return;
    if (value) drafts.set(chat.id, value);
    else drafts.delete(chat.id);
    // The SDK sends at most one "typing" every 3 s, and nothing when typing indicators are off. A sent
    // message itself tells the others the person stopped, so sending adds no extra message.
    if (!sent) void client.setTyping(chat.id, value.trim() !== "").catch(() => undefined);
  };

  // A message that could not be sent stays in the list as "not sent" with a retry button; a toast
  // adds the reason only when it is something retrying will not fix.
  const report = (error: unknown): void => {
    if (error instanceof SdkError && QUIET_SEND_ERRORS.has(error.code)) return;
    showToast(t(errorMessageKey(error)));
  };

  const saveEdit = (target: ChatMessage, body: string): void => {
    if (body === target.text) {
      onModeEnd();
      return;
    }
    // The edited text stays in the box until the SDK took it, so a failure loses nothing.
    setSaving(true);
    client
      .editMessage(chat.id, target.id, body)
      .then(() => onModeEnd())
      .catch((error: unknown) => showToast(t(errorMessageKey(error))))
      .finally(() => setSaving(false));
  };

  const send = (): void => {
    const body = text.trim();
    if (!body || saving || blocked) return;
    if (mode?.kind === "edit") {
      saveEdit(mode.message, body);
      return;
    }
    update("", true);
    const replyTo = mode?.kind === "reply" ? mode.message.id : undefined;
    onModeEnd();
    // The SDK shows the message at once as "sending"; a failure marks it "failed" with a retry button.
    client.sendText(chat.id, body, replyTo ? { replyTo } : {}).catch((error: unknown) => {
      // A reply whose original vanished meanwhile (deleted, disappeared): give the text back.
      if (error instanceof SdkError && error.code === "not-found") {
        update(body);
        showToast(t("msg.originalGone"));
        return;
      }
      report(error);
    });
    input.current?.focus();
  };

  /** Takes the reply target, if any, for a message about to be sent (ending reply mode). */
  const takeReplyTo = (): { replyTo?: string } => {
    if (mode?.kind !== "reply") return {};
    onModeEnd();
    return { replyTo: mode.message.id };
  };

  // The SDK shows the file at once as "sending" with upload progress, encrypts it here, and marks it
  // "failed" with a retry button if the upload breaks; nothing is lost.
  const sendFiles = async (files: File[]): Promise<void> => {
    const replyTo = takeReplyTo();
    for (const f of files) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await f.arrayBuffer());
      } catch {
        showToast(t("file.readFailed"));
        continue;
      }
      const image = f.type.startsWith("image/") ? await makeThumbnail(f) : null;
      client
        .sendFile(
          chat.id,
          {
            name: f.name || "file",
            bytes,
            ...(f.type ? { mime: f.type } : {}),
            ...(image ? { thumbnail: image.thumbnail, width: image.width, height: image.height } : {}),
          },
          replyTo,
        )
        .catch(report);
    }
  };

  const startVoice = (): void => {
    voice.start().catch(() => showToast(t("voice.noMic")));
  };

  const sendVoice = async (): Promise<void> => {
    const clip = await voice.stop();
    if (!clip) return;
    const extension = clip.mime.includes("ogg") ? "ogg" : clip.mime.includes("mp4") ? "m4a" : "webm";
    client
      .sendFile(
        chat.id,
        {
          name: `voice-${new Date().toISOString().replace(/[:.]/g, "-")}.${extension}`,
          mime: clip.mime,
          bytes: new Uint8Array(await clip.blob.arrayBuffer()),
          durationS: clip.durationS,
          voice: true,
        },
        takeReplyTo(),
      )
      .catch(report);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    // While an IME (Korean, Japanese…) is composing, Enter confirms the syllable, it does not send.
    if (e.key === "Escape" && mode) {
      e.preventDefault();
      onModeEnd();
      return;
    }
    if (e.key !== "Enter" || e.shiftKey || e.nativeEvent.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  };

  const sendSticker = (sticker: { pack: string; id: string }): void => {
    setPickerOpen(false);
    const replyTo = mode?.kind === "reply" ? mode.message.id : undefined;
    if (mode?.kind === "reply") onModeEnd();
    client.sendSticker(chat.id, sticker, replyTo ? { replyTo } : {}).catch(report);
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

  // A recording that reaches the longest allowed length is sent as it is.
  const atVoiceLimit = voice.state === "recording" && voice.elapsedS >= MAX_VOICE_S;
  const sendVoiceLatest = useRef(sendVoice);
  const sendFilesLatest = useRef(sendFiles);
  useLayoutEffect(() => {
    sendVoiceLatest.current = sendVoice;
    sendFilesLatest.current = sendFiles;
  });

  // Files dropped anywhere on the open chat are sent like attached ones.
  const editing = mode?.kind === "edit";
  useEffect(() => {
    const pane = input.current?.closest<HTMLElement>(".conversation");
    if (!pane || !chat.active || editing || blocked) return;
    const hasFiles = (e: DragEvent): boolean => e.dataTransfer?.types.includes("Files") ?? false;
    const over = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      pane.classList.add("drag-over");
    };
    const leave = (e: DragEvent): void => {
      if (e.target === pane || !pane.contains(e.relatedTarget as Node | null))
        pane.classList.remove("drag-over");
    };
    const drop = (e: DragEvent): void => {
      pane.classList.remove("drag-over");
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      void sendFilesLatest.current(files);
    };
    pane.addEventListener("dragover", over);
    pane.addEventListener("dragleave", leave);
    pane.addEventListener("drop", drop);
    return () => {
      pane.removeEventListener("dragover", over);
      pane.removeEventListener("dragleave", leave);
      pane.removeEventListener("drop", drop);
      pane.classList.remove("drag-over");
    };
  }, [chat.active, editing, blocked]);
  useEffect(() => {
    if (atVoiceLimit) void sendVoiceLatest.current();
  }, [atVoiceLimit]);

  if (!chat.active)
    return (
      <div className="composer inactive" role="note">
        {t("chat.inactive")}
      </div>
    );

  const modeBar = mode && (
    <div className="composer-mode" data-testid={`composer-${mode.kind}`}>
      <Icon name={mode.kind === "reply" ? "reply" : "edit"} size={18} />
      <div className="composer-mode-text">
        <strong>
          {mode.kind === "reply"
            ? t("composer.replyingTo", {
                name: mode.message.outgoing
                  ? t("system.you")
                  : chat.kind === "group"
                    ? nameWithUsername(quotedName, mode.message.from)
                    : (quotedName ?? mode.message.from),
              })
            : t("composer.editing")}
        </strong>
        <span>
          {mode.message.text ||
            (mode.message.kind === "sticker"
              ? t("composer.emoticons")
              : mode.message.file?.voice
                ? t("preview.voice")
                : mode.message.file?.mime.startsWith("image/")
                  ? t("preview.photo")
                  : (mode.message.file?.name ?? ""))}
        </span>
      </div>
      <IconButton
        icon="close"
        label={mode.kind === "reply" ? t("composer.cancelReply") : t("composer.cancelEdit")}
        data-testid="composer-mode-cancel"
        onClick={() => {
          onModeEnd();
          input.current?.focus();
        }}
      />
    </div>
  );

  if (voice.state === "recording")
    return (
      <div className="composer-wrap">
        {modeBar}
        <div className="composer recording" data-testid="voice-recorder">
          <IconButton
            icon="trash"
            label={t("voice.cancel")}
            data-testid="voice-cancel"
            onClick={() => voice.cancel()}
          />
          <p className="recording-label" role="status">
            <span className="recording-dot" aria-hidden="true" />
            {t("voice.recording", { time: formatDuration(voice.elapsedS) })}
          </p>
          <button
            type="button"
            className="send-button"
            data-testid="voice-send"
            aria-label={t("voice.send")}
            title={t("voice.send")}
            onClick={() => void sendVoice()}
          >
            <Icon name="send" size={20} />
          </button>
        </div>
      </div>
    );

  return (
    <div className="composer-wrap">
      {modeBar}
      {packDialog && (
        <StickerPackDialog
          chatId={chat.id}
          onClose={() => {
            setPackDialog(false);
            emoticonButton.current?.focus();
          }}
        />
      )}
      <div className="composer">
        {pickerOpen && (
          <EmoticonPicker
            chatId={chat.id}
            onCreatePack={() => {
              setPickerOpen(false);
              setPackDialog(true);
            }}
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
          disabled={blocked}
          onClick={() => setPickerOpen((o) => !o)}
        />
        <IconButton
          icon="attach"
          label={t("file.attach")}
          data-testid="attach-button"
          disabled={mode?.kind === "edit" || blocked}
          onClick={() => fileInput.current?.click()}
        />
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = "";
            if (files.length > 0) void sendFiles(files);
          }}
        />
        <textarea
          ref={input}
          className="composer-input"
          data-testid="composer"
          rows={1}
          value={text}
          disabled={blocked}
          placeholder={blocked ? t("safety.composerBlocked") : t("composer.placeholder")}
          aria-label={t("composer.label")}
          onChange={(e) => update(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            // A pasted screenshot is sent like an attached photo.
            const files = [...e.clipboardData.files];
            if (files.length === 0 || mode?.kind === "edit") return;
            e.preventDefault();
            void sendFiles(files);
          }}
          enterKeyHint="send"
        />
        {!text.trim() && !mode && (
          <IconButton
            icon="mic"
            label={t("voice.record")}
            data-testid="voice-record"
            disabled={blocked}
            onClick={startVoice}
          />
        )}
        <button
          type="button"
          className="send-button"
          data-testid="send-button"
          aria-label={mode?.kind === "edit" ? t("composer.save") : t("composer.send")}
          title={mode?.kind === "edit" ? t("composer.save") : t("composer.send")}
          disabled={!text.trim() || saving || blocked}
          onClick={send}
        >
          <Icon name={mode?.kind === "edit" ? "check" : "send"} size={20} />
        </button>
      </div>
    </div>
  );
}
