import { type ReactNode, useEffect, useRef } from "react";
import { UserAvatar } from "../components/avatar.tsx";
import { Icon } from "../components/icon.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import { callAvatarUser, usePeerName, useRing } from "./call-hooks.ts";
import { ViaGateway } from "./via-gateway.tsx";
import type { CallView } from "./call-store.ts";
import "./incoming-call.css";

/** The prompt while a call rings on this device: who calls, answer (voice or video), decline. */
export function IncomingCall({ view }: { view: CallView }): ReactNode {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const name = usePeerName(view.call);
  const avatar = callAvatarUser(view.call);
  const answerRef = useRef<HTMLButtonElement>(null);
  useRing("incoming", true);
  useEffect(() => answerRef.current?.focus(), []);
  // In a background tab the title is what shows that someone is calling.
  useEffect(() => {
    const before = document.title;
    document.title = t("call.ringingTitle", { name });
    return () => {
      document.title = before;
    };
  }, [t, name]);
  const video = view.media === "video";

  return (
    <div className="call-overlay">
      <div
        className="incoming-call"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="incoming-call-title"
        aria-describedby="incoming-call-name"
        data-testid="incoming-call"
        data-media={view.media}
      >
        <UserAvatar userId={avatar.userId} username={avatar.username} size={88} />
        <p id="incoming-call-title" className="incoming-call-kind">
          {t(video ? "call.incomingVideo" : "call.incomingVoice")}
        </p>
        <h2 id="incoming-call-name" data-testid="incoming-call-name">
          {name}
        </h2>
        {view.call.via && <ViaGateway call={view.call} />}
        <div className="call-controls">
          <button
            type="button"
            className="call-round decline"
            data-testid="call-decline"
            onClick={() => void calls.act((c) => c.decline())}
          >
            <Icon name="hangup" size={28} />
            <span>{t("call.decline")}</span>
          </button>
          <button
            ref={answerRef}
            type="button"
            className="call-round accept"
            data-testid="call-answer"
            onClick={() => void calls.act((c) => c.accept({ video: false }))}
          >
            <Icon name="phone" size={28} />
            <span>{t("call.answer")}</span>
          </button>
          {/* A phone line carries no video. */}
          {!view.call.via && (
            <button
              type="button"
              className="call-round accept"
              data-testid="call-answer-video"
              onClick={() => void calls.act((c) => c.accept({ video: true }))}
            >
              <Icon name="video" size={28} />
              <span>{t("call.answerVideo")}</span>
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
