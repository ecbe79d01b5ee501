import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useTransfer } from "../hooks/use-transfer.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { formatFileSize } from "../lib/file-size.ts";
import { blobUrlOf } from "../lib/media-type.ts";
import { thumbnailUrl } from "../lib/thumbnail.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import { Icon } from "./icon.tsx";
import { VoicePlayer } from "./voice-player.tsx";
import { useToast } from "./toast-provider.tsx";
import "./file-message.css";

/** Saves bytes as a file through the browser's download, as a link with `download` would. */
function saveAs(url: string, name: string): void {
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * The body of a file message: a photo's thumbnail (the full picture opens in a viewer), a voice
 * message's player, or a file card with its size and a download button; a progress bar while the
 * encrypted file moves. The SDK decrypts; the decrypted copy lives in an object URL while shown.
 */
export function FileMessage({ message: m, chat }: { message: ChatMessage; chat: ChatSummary }): ReactNode {
  const { t, language } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const transfer = useTransfer(client, chat.id, m.id, true);
  const [url, setUrl] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [viewer, setViewer] = useState(false);
  const urlRef = useRef<string | null>(null);
  const file = m.file;

  useEffect(
    () => () => {
      if (urlRef.current) URL.revokeObjectURL(urlRef.current);
    },
    [],
  );

  if (!file) return null;

  /** The decrypted file as an object URL: from this device, or downloaded (progress shows). */
  const load = async (): Promise<string | null> => {
    if (urlRef.current) return urlRef.current;
    setLoading(true);
    try {
      // Typed by what the bytes are, not by the sender's claim (see blobUrlOf); a download keeps the name.
      const made = blobUrlOf(await client.downloadFile(chat.id, m.id));
      urlRef.current = made;
      setUrl(made);
      return made;
    } catch {
      showToast(t("file.downloadFailed"));
      return null;
    } finally {
      setLoading(false);
    }
  };

  const download = async (): Promise<void> => {
    const u = await load();
    if (u) saveAs(u, file.name);
  };

  const percent = transfer ? Math.floor((transfer.done / Math.max(1, transfer.total)) * 100) : 0;
  const progress = transfer && (
    <div className="transfer" data-testid="transfer-progress" data-direction={transfer.direction}>
      <progress max={transfer.total} value={transfer.done} aria-label={t("file.progress")} />
      <span className="transfer-label">
        {transfer.direction === "up" ? t("file.uploading", { percent }) : t("file.downloading", { percent })}
      </span>
    </div>
  );

  const thumbnail = file.thumbnail === undefined ? null : thumbnailUrl(file.thumbnail);
  if (file.mime.startsWith("image/") && thumbnail)
    return (
      <div className="file-message image">
        <button
          type="button"
          className="image-thumb"
          data-testid="image-thumbnail"
          aria-label={t("file.open", { name: file.name })}
          onClick={() => {
            setViewer(true);
            void load();
          }}
        >
          <img
            src={thumbnail}
            alt={t("file.image")}
            style={file.width && file.height ? { aspectRatio: `${file.width} / ${file.height}` } : undefined}
          />
        </button>
        {progress}
        {viewer && (
          <Dialog title={file.name} onClose={() => setViewer(false)} testId="image-viewer">
            <div className="image-viewer">
              {url ? (
                <img src={url} alt={file.name} data-testid="image-full" />
              ) : (
                <img src={thumbnail} alt={file.name} className="loading" />
              )}
            </div>
            <div className="dialog-actions">
              <button
                type="button"
                className="button"
                disabled={!url}
                onClick={() => url && saveAs(url, file.name)}
              >
                <Icon name="download" size={18} />
                {t("file.saveCopy")}
              </button>
            </div>
          </Dialog>
        )}
      </div>
    );

  if (file.voice)
    return (
      <div className="file-message voice" data-testid="voice-message">
        <VoicePlayer message={m} chat={chat} />
        {progress}
      </div>
    );

  return (
    <div className="file-message" data-testid="file-card">
      <div className="file-card">
        <Icon name="file" size={28} />
        <div className="file-card-text">
          <span className="file-name" data-testid="file-name">
            {file.name}
          </span>
          <span className="file-size">{formatFileSize(file.size, language)}</span>
        </div>
        <button
          type="button"
          className="icon-button"
          data-testid="file-download"
          aria-label={t("file.download", { name: file.name })}
          title={t("file.download", { name: file.name })}
          disabled={loading}
          onClick={() => void download()}
        >
          <Icon name="download" size={20} />
        </button>
      </div>
      {progress}
    </div>
  );
}
