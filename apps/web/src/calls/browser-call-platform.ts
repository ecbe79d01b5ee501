import {
  type CallMediaControl,
  type CallPlatform,
  DtmfError,
  type PeerConnectionConfig,
  type PeerConnectionLike,
  type RtpTransceiverLike,
} from "@sori/sdk";

/** A microphone or camera could not be used. */
class CallMediaError extends Error {
  readonly code: "no-track";
  constructor(code: "no-track", message: string) {
    super(message);
    this.name = "CallMediaError";
    this.code = code;
  }
}

/** The local tracks of the call in progress, for the self-view. */
export type LocalMedia = { audio: MediaStreamTrack | null; video: MediaStreamTrack | null };

/**
 * Calls in the browser: the browser's own RTCPeerConnection, the microphone and camera from
 * getUserMedia. Keeps the current call's local tracks so the call screen can show the self-view and
 * the selected input devices.
 */
export class BrowserCallPlatform implements CallPlatform {
  readonly #listeners = new Set<() => void>();
  #local: LocalMedia = { audio: null, video: null };

  /** The current call's local tracks (a new object whenever a track changes). */
  readonly getLocal = (): LocalMedia => this.#local;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #setLocal(next: Partial<LocalMedia>): void {
    this.#local = { ...this.#local, ...next };
    for (const l of this.#listeners) l();
  }

  createPeerConnection(config: PeerConnectionConfig): PeerConnectionLike {
    // The browser's peer connection is a superset of PeerConnectionLike; only the event handler
    // parameter types differ (RTCPeerConnectionIceEvent vs the SDK's structural event).
    return new RTCPeerConnection(config) as unknown as PeerConnectionLike;
  }

  async startMedia(context: {
    callId: string;
    audio: RtpTransceiverLike;
    video: RtpTransceiverLike;
    cameraOn: boolean;
  }): Promise<CallMediaControl> {
    // The SDK's structural transceivers are the browser's RTCRtpTransceivers here.
    const audioSender = (context.audio as unknown as RTCRtpTransceiver).sender;
    const videoSender = (context.video as unknown as RTCRtpTransceiver).sender;
    let muted = false;
    let stopped = false;
    let mic: MediaStreamTrack | null = null;
    let cam: MediaStreamTrack | null = null;
    let micId: string | undefined;
    let camId: string | undefined;

    const stopTrack = (t: MediaStreamTrack | null): void => t?.stop();
    const getTrack = async (kind: "audio" | "video", deviceId?: string): Promise<MediaStreamTrack> => {
      const constraint: MediaTrackConstraints | boolean = deviceId ? { deviceId: { exact: deviceId } } : true;
      if (!navigator.mediaDevices) throw new CallMediaError("no-track", "this page cannot use media devices");
      const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraint });
      const track = kind === "audio" ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (!track) throw new CallMediaError("no-track", `the browser returned no ${kind} track`);
      return track;
    };

    // One permission prompt for both when the call starts with the camera on.
    // `mediaDevices` is missing on plain-http pages (other than localhost): no local media at all then.
    const media = navigator.mediaDevices as MediaDevices | undefined;
    const stream = media
      ? await media
          .getUserMedia({ audio: true, video: context.cameraOn })
          // No camera (or camera refused): the call still goes ahead with the microphone.
          .catch(() => (context.cameraOn ? media.getUserMedia({ audio: true }) : null))
          .catch(() => null)
      : null;
    mic = stream?.getAudioTracks()[0] ?? null;
    cam = stream?.getVideoTracks()[0] ?? null;
    // Without a microphone the call still connects: the other side is heard, this side is silent.
    await audioSender.replaceTrack(mic);
    await videoSender.replaceTrack(cam);
    this.#setLocal({ audio: mic, video: cam });

    const setCamera = async (on: boolean): Promise<void> => {
      if (stopped) return;
      if (!on) {
        stopTrack(cam);
        cam = null;
        await videoSender.replaceTrack(null);
        this.#setLocal({ video: null });
        return;
      }
      if (cam) return;
      const track = await getTrack("video", camId);
      if (stopped) return track.stop();
      cam = track;
      await videoSender.replaceTrack(track);
      this.#setLocal({ video: track });
    };

    return {
      setMuted: (m: boolean): void => {
        muted = m;
        if (mic) mic.enabled = !m;
      },
      setCamera,
      switchInput: async (kind: "audio" | "video", deviceId: string): Promise<void> => {
        if (stopped) return;
        if (kind === "video") {
          camId = deviceId;
          // With the camera off the choice applies when it is turned on.
          if (!cam) return;
        } else micId = deviceId;
        const track = await getTrack(kind, kind === "audio" ? micId : camId);
        if (stopped) return track.stop();
        if (kind === "audio") {
          track.enabled = !muted;
          await audioSender.replaceTrack(track);
          stopTrack(mic);
          mic = track;
          this.#setLocal({ audio: track });
        } else {
          await videoSender.replaceTrack(track);
          stopTrack(cam);
          cam = track;
          this.#setLocal({ video: track });
        }
      },
      sendDtmf: (tones: string): void => {
        // The browser sends RFC 4733 events only when a telephone-event was negotiated; a phone
        // gateway negotiates one for G.711/G.722 calls, so elsewhere this says so instead of failing silently.
        const dtmf = audioSender.dtmf;
        if (!dtmf || !dtmf.canInsertDTMF)
          throw new DtmfError("not-available", "this call cannot carry DTMF tones");
        // 100 ms tones with 70 ms gaps: long enough for every phone menu, short enough to type.
        dtmf.insertDTMF(dtmf.toneBuffer + tones, 100, 70);
      },
      stop: (): void => {
        stopped = true;
        stopTrack(mic);
        stopTrack(cam);
        mic = null;
        cam = null;
        this.#setLocal({ audio: null, video: null });
      },
    };
  }
}
