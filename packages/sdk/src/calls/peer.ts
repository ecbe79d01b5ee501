/**
 * The WebRTC surface the call code uses: the subset of the browser's RTCPeerConnection that werift's
 * implements too, so one call manager drives both. The platform supplies the peer connection and the
 * media (microphone/camera in a browser, a generated tone in the CLI).
 */

export type SessionDescriptionLike = { type: string; sdp?: string };
export type IceCandidateLike = { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null };

export type RtpTransceiverLike = {
  direction: string;
  readonly mid: string | null;
};

/** A statistics report: a Map of RTCStats-like records (browser RTCStatsReport, werift's too). */
export type StatsReportLike = { forEach(cb: (stat: Record<string, unknown>) => void): void };

export type PeerConnectionLike = {
  readonly iceConnectionState: string;
  readonly localDescription: SessionDescriptionLike | null;
  createOffer(options?: { iceRestart?: boolean }): Promise<SessionDescriptionLike>;
  createAnswer(): Promise<SessionDescriptionLike>;
  setLocalDescription(description: SessionDescriptionLike): Promise<unknown>;
  setRemoteDescription(description: { type: "offer" | "answer"; sdp: string }): Promise<unknown>;
  addIceCandidate(candidate: IceCandidateLike): Promise<unknown>;
  addTransceiver(kind: "audio" | "video", init: { direction: "sendrecv" }): RtpTransceiverLike;
  getTransceivers(): RtpTransceiverLike[];
  getStats(): Promise<StatsReportLike>;
  close(): unknown;
  onicecandidate: ((event: { candidate: IceCandidateLike | null | undefined }) => void) | null;
  oniceconnectionstatechange: (() => void) | null;
};

export type IceServer = { urls: string | string[]; username?: string; credential?: string };

export type PeerConnectionConfig = {
  iceServers: IceServer[];
  iceTransportPolicy: "all" | "relay";
  /** The call this peer connection is for (a gateway bridges each call to its own phone leg). */
  callId: string;
};

/** Local media of one call, once its transceivers exist. */
export type CallMediaControl = {
  /** Stops (or resumes) sending microphone audio. */
  setMuted(muted: boolean): void | Promise<void>;
  /** Starts or stops sending camera video (on the call's video transceiver). */
  setCamera(on: boolean): void | Promise<void>;
  /** Switches an input (microphone or camera) by device id, without renegotiation (replaceTrack). */
  switchInput(kind: "audio" | "video", deviceId: string): Promise<void>;
  /**
   * Sends DTMF tones (already checked: 0-9, *, #, A-D) as RFC 4733 telephone-events. Absent where
   * the platform cannot; it throws a DtmfError("not-available") when this call cannot carry them.
   */
  sendDtmf?(tones: string): void;
  /** Releases devices and timers; the call has ended. */
  stop(): void;
};

/** What a platform gives the call manager. */
export type CallPlatform = {
  createPeerConnection(config: PeerConnectionConfig): PeerConnectionLike;
  /**
   * Wires local media into a call's transceivers (audio first, video second), before the first offer
   * or answer is made. `video` is whether the camera starts on.
   */
  startMedia(context: {
    callId: string;
    audio: RtpTransceiverLike;
    video: RtpTransceiverLike;
    cameraOn: boolean;
    /**
     * For each keypad key (DTMF: 0-9, *, #, A-D) the other side sends as RFC 4733 telephone-events,
     * once per press; a platform that cannot see received events never calls it.
     */
    onDtmf?(key: string): void;
  }): Promise<CallMediaControl>;
  /**
   * Candidates to keep (e.g. loopback-only tests drop every non-127.0.0.1 candidate); applied to
   * trickled candidates and to `a=candidate` lines in SDP. Keeps everything when absent.
   */
  keepCandidate?(candidate: string): boolean;
};
