import type { CallEntry, ChatSummary } from "@sori/sdk";
import type { ReactNode } from "react";
import { IconButton } from "../components/icon-button.tsx";
import { Icon } from "../components/icon.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useStartCall } from "./call-buttons.tsx";
import { callHistoryLabel } from "./call-history-label.ts";
import "./call-history-entry.css";

/**
 * A call in the conversation: who called, voice or video, how long, or why it did not happen; with a
 * button to call back (the same kind of call) while the chat is still active.
 */
export function CallHistoryEntry({ entry, chat }: { entry: CallEntry; chat: ChatSummary }): ReactNode {
  const { t } = useI18n();
  const missed = entry.missed && entry.outcome !== "declined";
  return (
    <div
      className={`call-entry${missed ? " missed" : ""}`}
      data-testid="call-entry"
      data-call-direction={entry.direction}
      data-call-outcome={entry.outcome}
      data-call-missed={String(entry.missed)}
      data-call-media={entry.media}
    >
      <span className="call-entry-icon">
        <Icon name={missed ? "phoneMissed" : entry.media === "video" ? "video" : "phone"} size={18} />
      </span>
      <span className="call-entry-text">{callHistoryLabel(entry, t)}</span>
      {chat.kind === "direct" && chat.active && <CallBack chat={chat} video={entry.media === "video"} />}
    </div>
  );
}

function CallBack({ chat, video }: { chat: ChatSummary; video: boolean }): ReactNode {
  const { t } = useI18n();
  const { start, busy } = useStartCall(chat);
  return (
    <IconButton
      icon={video ? "video" : "phone"}
      label={t(video ? "history.callBackVideo" : "history.callBack")}
      className="small call-back"
      data-testid="call-back"
      disabled={busy}
      onClick={() => void start(video)}
    />
  );
}
