import { CallError, type ChatSummary } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { IconButton } from "../components/icon-button.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import { useCallView } from "./use-call-view.ts";

/** Starting a call from a chat: `busy` while one is starting or in progress; failures become toasts. */
export function useStartCall(chat: ChatSummary): { start: (video: boolean) => Promise<void>; busy: boolean } {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const { showToast } = useToast();
  const view = useCallView();
  const [starting, setStarting] = useState(false);
  const busy = starting || (view !== null && view.state !== "ended");

  const start = async (video: boolean): Promise<void> => {
    setStarting(true);
    try {
      await calls.start(chat.id, video);
    } catch (error) {
      showToast(
        t(error instanceof CallError && error.code === "busy" ? "call.alreadyInCall" : "call.startFailed"),
      );
    } finally {
      setStarting(false);
    }
  };
  return { start, busy };
}

/** Voice and video call buttons for a direct chat's header. */
export function CallButtons({ chat }: { chat: ChatSummary }): ReactNode {
  const { t } = useI18n();
  const { start, busy } = useStartCall(chat);
  return (
    <>
      <IconButton
        icon="phone"
        label={t("call.voice")}
        data-testid="call-voice-button"
        disabled={busy}
        onClick={() => void start(false)}
      />
      <IconButton
        icon="video"
        label={t("call.video")}
        data-testid="call-video-button"
        disabled={busy}
        onClick={() => void start(true)}
      />
    </>
  );
}
