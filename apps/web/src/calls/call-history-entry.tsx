import type { CallEntry } from "@sori/sdk";
import type { ReactNode } from "react";
import { Icon } from "../components/icon.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { callHistoryLabel } from "./call-history-label.ts";

/** A call in the conversation: who called, voice or video, how long, or why it did not happen. */
export function CallHistoryEntry({ entry }: { entry: CallEntry }): ReactNode {
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
    </div>
  );
}
