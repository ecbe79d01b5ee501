import { type ReactNode, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { UserAvatar } from "../components/avatar.tsx";
import { IconButton } from "../components/icon-button.tsx";
import { Icon } from "../components/icon.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import { callAvatarUser, usePeerName, useElapsed, useRemoteStream, useRing } from "./call-hooks.ts";
import { isDialledPhoneCall, phoneCallEnd } from "./phone-call-end.ts";
import { ViaGateway } from "./via-gateway.tsx";
import { formatDuration } from "./call-history-label.ts";
import type { CallView } from "./call-store.ts";
import { DevicePicker } from "./device-picker.tsx";
import { DialKeypad } from "./dial-keypad.tsx";
import { MediaElement } from "./media-element.tsx";
import { QualityIndicator } from "./quality-indicator.tsx";
import "./call-screen.css";

/**
 * The call in progress (or calling, or just ended): the other side's video or photo, the self-view,
 * status (timer, reconnecting, why it ended), quality, and the controls.
 */
export function CallScreen({ view }: { view: CallView }): ReactNode {
  const { t } = useI18n();
  const { calls } = useSignedIn();
  const { showToast } = useToast();
  const { call, state } = view;
  const name = usePeerName(call);
  const avatar = callAvatarUser(call);
  const remote = useRemoteStream(view);
  const local = useSyncExternalStore(calls.platform.subscribe, calls.platform.getLocal);
  const [localVideo, setLocalVideo] = useState<MediaStream | null>(null);
  useEffect(() => {
    setLocalVideo(local.video ? new MediaStream([local.video]) : null);
  }, [local.video]);
  const [devicesOpen, setDevicesOpen] = useState(false);
  // A phone's menus ("press 1 for…") need its keys: only calls through a gateway have them.
  const [keypadOpen, setKeypadOpen] = useState(false);
  const live = state === "connected" || state === "reconnecting";
  const elapsed = useElapsed(view.connectedAt, live);
  const ended = state === "ended";
  const hangupRef = useRef<HTMLButtonElement>(null);
  // Not answered yet. With early media the phone network plays its own ringback or announcement.
  const unanswered = state === "ringing-out" || state === "early-media";
  useRing("ringback", state === "ringing-out");
  useEffect(() => hangupRef.current?.focus(), []);

  const showRemoteVideo = view.remoteMedia.video && !ended;
  // A number or address this person called: its end is said in a phone's words, with a hint.
  const phoneEnd = ended && isDialledPhoneCall(call) ? phoneCallEnd(view.endReason) : null;
  let status: string;
  switch (state) {
    case "ringing-out":
      status = t("call.calling");
      break;
    case "early-media":
      status = t("call.earlyMedia");
      break;
    case "connecting":
    case "ringing-in":
      status = t("call.connecting");
      break;
    case "reconnecting":
      status = t("call.reconnecting");
      break;
    case "connected":
      status = formatDuration(elapsed);
      break;
    case "ended":
      if (phoneEnd) status = t(phoneEnd.status);
      else status = view.endReason ? t(`call.ended.${view.endReason}`, { name }) : t("call.ended.hangup");
      // An answered call says how long it lasted.
      if (view.connectedAt !== null) status = `${status} · ${formatDuration(call.durationS)}`;
      break;
  }

  const toggleCamera = (): void => {
    void calls.act((c) => c.setCamera(!c.cameraOn)).catch(() => showToast(t("call.cameraFailed")));
  };

  return (
    <div className="call-overlay">
      <section
        className={`call-screen${showRemoteVideo ? " with-video" : ""}`}
        aria-label={t("call.screenLabel", { name })}
        data-testid="call-screen"
        data-state={state}
        data-end-reason={view.endReason ?? ""}
        data-media={view.media}
      >
        <MediaElement kind="audio" stream={remote} />
        <div className="call-stage">
          {showRemoteVideo ? (
            <MediaElement
              kind="video"
              stream={remote}
              muted
              className="call-remote-video"
              label={t("call.remoteView", { name })}
              testId="call-remote-video"
            />
          ) : (
            <div className="call-peer">
              {/* A number has no face, and the gateway account's would name the wrong party. */}
              {isDialledPhoneCall(call) ? (
                <span className="call-phone-disc" data-testid="call-phone-disc">
                  <Icon name="phone" size={52} />
                </span>
              ) : (
                <UserAvatar userId={avatar.userId} username={avatar.username} size={112} />
              )}
            </div>
          )}
          {localVideo && !ended && (
            <MediaElement
              kind="video"
              stream={localVideo}
              muted
              className="call-self-video"
              label={t("call.selfView")}
              testId="call-self-video"
            />
          )}
        </div>
        <header className="call-info">
          <h2 data-testid="call-peer-name">{name}</h2>
          {call.via && <ViaGateway call={call} />}
          {/* The ticking timer is a "timer" (not announced every second); state changes are announced. */}
          {state === "connected" ? (
            <p
              className="call-status"
              role="timer"
              aria-label={t("call.timer", { time: status })}
              data-testid="call-status"
            >
              {status}
            </p>
          ) : (
            <p className="call-status" role="status" aria-live="polite" data-testid="call-status">
              {status}
            </p>
          )}
          {phoneEnd?.hint && (
            <p className="call-end-hint" aria-live="polite" data-testid="call-end-hint">
              {t(phoneEnd.hint, { gateway: call.peer.username })}
            </p>
          )}
          {live && <QualityIndicator quality={view.quality} />}
          {live && view.remoteMedia.held && (
            <p className="call-remote-muted" role="status" data-testid="call-remote-held">
              <Icon name="pause" size={16} /> {t("call.remoteHeld", { name })}
            </p>
          )}
          {live && !view.remoteMedia.audio && !view.remoteMedia.held && (
            <p className="call-remote-muted">
              <Icon name="micOff" size={16} /> {t("call.remoteMuted", { name })}
            </p>
          )}
          {live && view.onHold && !view.remoteMedia.holdFailed && (
            <p className="call-remote-muted" role="status" data-testid="call-on-hold">
              <Icon name="pause" size={16} /> {t("call.onHold")}
            </p>
          )}
          {live && view.remoteMedia.holdFailed && (
            <p className="call-no-mic" role="alert" data-testid="call-hold-failed">
              <Icon name="alert" size={16} /> {t(view.onHold ? "call.holdFailed" : "call.resumeFailed")}
            </p>
          )}
          {live && local.audio === null && (
            <p className="call-no-mic" role="alert" data-testid="call-no-mic">
              <Icon name="alert" size={16} /> {t("call.noMicrophone", { name })}
            </p>
          )}
        </header>
        {devicesOpen && !ended && <DevicePicker call={call} onClose={() => setDevicesOpen(false)} />}
        {keypadOpen && call.via && live && (
          <div className="call-dtmf" data-testid="call-dtmf-keypad">
            <DialKeypad
              disabled={state !== "connected"}
              onKey={(k) => {
                try {
                  call.sendDtmf(k);
                } catch {
                  showToast(t("call.dtmfFailed"));
                }
              }}
            />
          </div>
        )}
        <div className="call-controls" role="group" aria-label={t("call.screenLabel", { name })}>
          {ended ? (
            <IconButton
              icon="close"
              label={t("call.close")}
              className="call-round"
              data-testid="call-close"
              onClick={() => calls.dismiss()}
            />
          ) : (
            <>
              <IconButton
                icon={view.muted ? "micOff" : "mic"}
                label={t(view.muted ? "call.unmute" : "call.mute")}
                className={`call-round${view.muted ? " off" : ""}`}
                aria-pressed={view.muted}
                data-testid="call-mute"
                disabled={unanswered}
                onClick={() => void calls.act((c) => c.setMuted(!c.muted))}
              />
              {/* A gateway bridges audio only: a phone dialled or calling in has no camera to show or send to.
                  (A person's own phone line keeps it: a video call they answered there may still need it off.) */}
              {!(call.via && !call.lineOwner) && (
                <IconButton
                  icon={view.cameraOn ? "video" : "videoOff"}
                  label={t(view.cameraOn ? "call.cameraOff" : "call.cameraOn")}
                  className={`call-round${view.cameraOn ? "" : " off"}`}
                  aria-pressed={view.cameraOn}
                  data-testid="call-camera"
                  disabled={unanswered}
                  onClick={toggleCamera}
                />
              )}
              {call.via && (
                <IconButton
                  icon="dialpad"
                  label={t(keypadOpen ? "call.keypadHide" : "call.keypadShow")}
                  className="call-round"
                  aria-expanded={keypadOpen}
                  data-testid="call-keypad"
                  disabled={!live}
                  onClick={() => setKeypadOpen((o) => !o)}
                />
              )}
              {live && (
                <IconButton
                  icon="pause"
                  label={t(view.onHold ? "call.resume" : "call.hold")}
                  className={`call-round${view.onHold ? " off" : ""}`}
                  aria-pressed={view.onHold}
                  data-testid="call-hold"
                  onClick={() => void calls.act((c) => c.setOnHold(!c.onHold))}
                />
              )}
              <IconButton
                icon="sliders"
                label={t("call.devices")}
                className="call-round"
                aria-expanded={devicesOpen}
                data-testid="call-devices"
                onClick={() => setDevicesOpen((o) => !o)}
              />
              <button
                ref={hangupRef}
                type="button"
                className="icon-button call-round decline"
                aria-label={t(unanswered ? "call.cancel" : "call.hangup")}
                title={t(unanswered ? "call.cancel" : "call.hangup")}
                data-testid="call-hangup"
                onClick={() => void calls.act((c) => c.hangup())}
              >
                <Icon name="hangup" size={28} />
              </button>
            </>
          )}
        </div>
      </section>
    </div>
  );
}
