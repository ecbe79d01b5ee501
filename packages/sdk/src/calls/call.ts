import type { WarningCode } from "../warnings.ts";
import { TypedEmitter } from "../util/typed-emitter.ts";
import {
  type CallDirection,
  type CallEffect,
  type CallEndReason,
  type CallInput,
  type CallState,
  type CallTimings,
  initialState,
  type MachineState,
  ringingOut,
  transition,
} from "./call-machine.ts";
import type { CallSignal, ForeignParty, IceCandidateWire, PhoneLineRef } from "./call-signal.ts";
import type {
  CallMediaControl,
  CallPlatform,
  PeerConnectionConfig,
  PeerConnectionLike,
  RtpTransceiverLike,
} from "./peer.ts";
import { type CallQuality, type CallStats, summarizeStats } from "./quality.ts";
import { checkDtmfTones, DtmfError } from "./dtmf.ts";

export type CallEvents = {
  /** The call moved to another state (see `state`, `endReason`). */
  state: (state: CallState) => void;
  /** The connection-quality estimate changed (polled every 2 s while connected). */
  quality: (quality: CallQuality) => void;
  /** The other side muted/unmuted, turned its camera on/off, or put the call on hold or took it off. */
  "remote-media": (media: RemoteMedia) => void;
  /**
   * A keypad key (0-9, *, #, A-D) the other side pressed, once per press, where this device's
   * platform can see received RFC 4733 telephone-events (werift's does; browsers report none).
   */
  dtmf: (key: string) => void;
};

/**
 * What the other side says of its media: microphone, camera, whether it holds the call, and (a
 * gateway) whether it could not pass this side's last hold or resume on to the phone.
 */
export type RemoteMedia = { audio: boolean; video: boolean; held: boolean; holdFailed: boolean };

/** What a call needs from its manager. */
export type CallContext = {
  platform: CallPlatform;
  timings: CallTimings;
  /** Sends a signal into the chat (transient, queued while the link is down). */
  send(signal: CallSignal): void;
  peerConfig(): Promise<Omit<PeerConnectionConfig, "callId">>;
  warn(code: WarningCode, message: string): void;
  ended(call: Call): void;
  now(): number;
};

const STATS_INTERVAL_MS = 2000;
const CANDIDATE_BATCH_MS = 20;
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * One 1:1 call on this device. Signalling decisions come from the state machine (call-machine.ts); this
 * class runs the peer connection, media, timers and signals around it.
 */
export class Call {
  /** Random per call; every signal of the call carries it. */
  readonly id: string;
  /** The chat (MLS group) the call belongs to. */
  readonly chatId: string;
  readonly direction: CallDirection;
  /** The other person. */
  readonly peer: { userId: string; username: string };
  /**
   * A gateway's side: the caller rings this person's phone lines hosted here (not a phone number or
   * address: the phones registered for the lines).
   */
  readonly lines: PhoneLineRef[] | undefined;
  /** When the call was started (caller) or rang (callee), ms since epoch. */
  readonly startedAt: number;
  #via: ForeignParty | undefined;
  #lineOwner: { userId: string; username: string } | undefined;
  #media: "audio" | "video";
  #machine: MachineState;
  #endedAt: number | null = null;
  /** The other side's device in the call: the caller's, or (for the caller) the one that answered. */
  #peerDevice: string | undefined;
  readonly #ctx: CallContext;
  readonly #events = new TypedEmitter<CallEvents>();
  #pc: PeerConnectionLike | undefined;
  #transceivers: { audio: RtpTransceiverLike; video: RtpTransceiverLike } | undefined;
  #control: CallMediaControl | undefined;
  #remoteOffer: string | undefined;
  #remoteSet = false;
  #pendingCandidates: IceCandidateWire[] = [];
  #outCandidates: IceCandidateWire[] = [];
  #candidateTimer: ReturnType<typeof setTimeout> | undefined;
  #canTrickle = false;
  #ringTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #quality: CallQuality = "unknown";
  #muted = false;
  #cameraOn: boolean;
  #remoteMedia: RemoteMedia = { audio: true, video: false, held: false, holdFailed: false };
  #onHold = false;
  #holdFailed = false;
  #negotiation: Promise<void> | undefined;
  #renegotiateAgain: { iceRestart: boolean } | undefined;
  #answerWaiter: ((answered: boolean) => void) | undefined;
  /** Callee side: the media set up for early media (earlyMedia()), which accept() waits for. */
  #earlySetup: Promise<boolean> | undefined;
  /** ICE restarts made over the whole call (for tests and diagnostics). */
  iceRestarts = 0;

  constructor(o: {
    id: string;
    chatId: string;
    direction: CallDirection;
    peer: { userId: string; username: string };
    media: "audio" | "video";
    ctx: CallContext;
    peerDevice?: string;
    remoteOffer?: string;
    via?: ForeignParty;
    lines?: PhoneLineRef[];
    lineOwner?: { userId: string; username: string };
  }) {
    this.id = o.id;
    this.#via = o.via;
    this.lines = o.lines;
    this.#lineOwner = o.lineOwner;
    this.chatId = o.chatId;
    this.direction = o.direction;
    this.peer = o.peer;
    this.#media = o.media;
    this.#ctx = o.ctx;
    this.#peerDevice = o.peerDevice;
    this.#remoteOffer = o.remoteOffer;
    this.#cameraOn = o.direction === "outgoing" && o.media === "video";
    this.#remoteMedia.video = o.direction === "incoming" && o.media === "video";
    this.#machine = initialState(o.direction);
    this.startedAt = o.ctx.now();
  }

  // --- what a UI reads ----------------------------------------------------------------------------

  /**
   * A call bridged by a gateway: the party on the other network (the caller's phone, the phone called,
   * or the callee's phone line that took the call). Such a call is end-to-end encrypted only as far as
   * the gateway; a UI must say so.
   */
  get via(): ForeignParty | undefined {
    return this.#via;
  }

  /**
   * Whose own phone line is on the other end (checked against that person's profile): set when a
   * person calls from their desk phone, or when the callee took this call on theirs.
   */
  get lineOwner(): { userId: string; username: string } | undefined {
    return this.#lineOwner;
  }

  get state(): CallState {
    return this.#machine.state;
  }
  /** Why the call ended; null until it has. */
  get endReason(): CallEndReason | null {
    return this.#machine.endReason;
  }
  /** When media first flowed (for the call timer); null before. */
  get connectedAt(): number | null {
    return this.#machine.connectedAt;
  }
  get endedAt(): number | null {
    return this.#endedAt;
  }
  /** Whole seconds between connecting and ending (or now); 0 if it never connected. */
  get durationS(): number {
    const from = this.#machine.connectedAt;
    if (from === null) return 0;
    return Math.max(0, Math.round(((this.#endedAt ?? this.#ctx.now()) - from) / 1000));
  }
  /** "video" once either side asked for video (at the start or by upgrading). */
  get media(): "audio" | "video" {
    return this.#media;
  }
  get muted(): boolean {
    return this.#muted;
  }
  get cameraOn(): boolean {
    return this.#cameraOn;
  }
  get remoteMedia(): RemoteMedia {
    return { ...this.#remoteMedia };
  }
  /** Whether this side holds the call (`setOnHold`). */
  get onHold(): boolean {
    return this.#onHold;
  }
  get quality(): CallQuality {
    return this.#quality;
  }
  /**
   * The device of the other person taking part (undefined while an outgoing call rings, until a
   * device answers or plays early media).
   */
  get peerDeviceId(): string | undefined {
    return this.#peerDevice;
  }
  /** The peer connection, once made (for rendering remote tracks). */
  get peerConnection(): PeerConnectionLike | undefined {
    return this.#pc;
  }
  /** The call's audio and video transceivers, once made. */
  get transceivers(): { audio: RtpTransceiverLike; video: RtpTransceiverLike } | undefined {
    return this.#transceivers;
  }

  on<E extends keyof CallEvents>(event: E, listener: CallEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  // --- actions --------------------------------------------------------------------------------------

  /** Answers an incoming call on this device (the others stop ringing). */
  async accept(options: { video?: boolean; via?: ForeignParty } = {}): Promise<void> {
    if (this.state !== "ringing-in" || !this.#remoteOffer || !this.#peerDevice) return;
    const early = this.#earlySetup;
    this.#cameraOn = options.video ?? false;
    if (this.#cameraOn) this.#media = "video";
    this.#input({ type: "local-accept" });
    try {
      // After early media the answer is made and sent already: the caller is told it is taken.
      if (early) {
        if (!(await early) || this.#over()) return;
        if (this.#cameraOn) await this.#control?.setCamera(true);
      } else await this.#answerMedia();
      if (this.#over()) return;
      this.#ctx.send({
        kind: "accept",
        to: this.#peerDevice,
        sdp: this.#localSdp(),
        ...(options.via ? { via: options.via } : {}),
      });
      this.#canTrickle = true;
      this.#scheduleCandidates();
      this.#sendMediaState();
      // ICE may have connected during early media: the machine hears so now, not at the next change.
      if (early && this.#pc)
        this.#input({ type: "ice", state: this.#pc.iceConnectionState, now: this.#ctx.now() });
    } catch (error) {
      this.#fail("answer", error);
    }
  }

  /**
   * A gateway's side of a call it has not answered yet, whose other network plays audio before
   * answering (SIP 183 Session Progress with SDP): sets up the media and sends the caller the answer
   * now, and the call keeps ringing (the caller's state is "early-media"); accept() later takes it,
   * decline() refuses it. Does nothing if the call no longer rings or already has its media.
   */
  earlyMedia(): Promise<boolean> {
    if (this.state !== "ringing-in" || !this.#remoteOffer || !this.#peerDevice) return Promise.resolve(false);
    this.#earlySetup ??= (async () => {
      try {
        await this.#answerMedia();
        if (this.#over() || !this.#peerDevice) {
          // Declined or cancelled while the media was set up: what was made after the teardown goes too.
          this.#closeMedia();
          return false;
        }
        this.#ctx.send({ kind: "early", to: this.#peerDevice, sdp: this.#localSdp() });
        this.#canTrickle = true;
        this.#scheduleCandidates();
        return true;
      } catch (error) {
        if (this.#over()) this.#closeMedia();
        this.#fail("early-media", error);
        return false;
      }
    })();
    return this.#earlySetup;
  }

  /**
   * Declines an incoming call (every device of this user stops ringing). A gateway passes on why the
   * other network refused it: `busy`, or `unreachable` (no such number, or it is off).
   */
  decline(options: { reason?: "busy" | "unreachable" } = {}): void {
    if (this.state === "ringing-in") this.#input({ type: "local-decline", ...options });
  }

  /** The caller's offer of an incoming call (a gateway reads its codecs before answering). */
  get remoteOffer(): string | undefined {
    return this.#remoteOffer;
  }

  /** Ends the call: cancels a ringing outgoing call, declines a ringing incoming one. */
  hangup(): void {
    this.#input({ type: "local-hangup" });
  }

  async setMuted(muted: boolean): Promise<void> {
    this.#muted = muted;
    await this.#control?.setMuted(muted || this.#quiet());
    this.#sendMediaState();
  }

  /** Turns the camera on or off. Turning it on in a voice call upgrades the call to video. */
  async setCamera(on: boolean): Promise<void> {
    if (on && this.#media === "audio") return this.upgradeToVideo();
    this.#cameraOn = on;
    await this.#control?.setCamera(on && !this.#quiet());
    this.#sendMediaState();
  }

  /**
   * Puts the call on hold on this side, or takes it off: nothing is sent while it is held (as if
   * muted and the camera off, without changing `muted` or `cameraOn`), and the other side's
   * `remoteMedia.held` says so. A gateway passes on a phone's hold and resume this way.
   */
  async setOnHold(onHold: boolean): Promise<void> {
    if (onHold === this.#onHold) return;
    this.#onHold = onHold;
    await this.#applySending();
    this.#sendMediaState();
  }

  /**
   * A gateway's side: the other side's last hold or resume (its `remoteMedia.held` here) could not be
   * passed on to the phone, or now could. The other side's `remoteMedia.holdFailed` says so.
   */
  setHoldFailed(failed: boolean): void {
    if (failed === this.#holdFailed) return;
    this.#holdFailed = failed;
    this.#sendMediaState();
  }

  /** Switches microphone or camera to another input device without interrupting the call. */
  async switchInput(kind: "audio" | "video", deviceId: string): Promise<void> {
    await this.#control?.switchInput(kind, deviceId);
  }

  /**
   * Sends DTMF tones (0-9, *, #, A-D) to the other side as RFC 4733 telephone-events, for the menus
   * of phones reached through a gateway. Throws a DtmfError: "invalid-tones", "not-connected", or
   * "not-available" when this platform or call cannot carry them.
   */
  sendDtmf(tones: string): void {
    const checked = checkDtmfTones(tones);
    if (this.state !== "connected" || !this.#control)
      throw new DtmfError("not-connected", "DTMF can be sent only while the call is connected");
    if (!this.#control.sendDtmf)
      throw new DtmfError("not-available", "this device's calls cannot send DTMF tones");
    this.#control.sendDtmf(checked);
  }

  /** Upgrades a voice call to video: the camera starts and the session is renegotiated. */
  async upgradeToVideo(): Promise<void> {
    this.#media = "video";
    this.#cameraOn = true;
    await this.#control?.setCamera(!this.#quiet());
    this.#sendMediaState();
    this.renegotiate(false);
  }

  /** Restarts ICE now (done by itself when the connection drops; exposed for network changes and tests). */
  restartIce(): void {
    this.iceRestarts++;
    this.renegotiate(true);
  }

  /** A new offer/answer round (the caller makes it; the callee asks the caller to). */
  renegotiate(iceRestart: boolean): void {
    if (!this.#pc || !this.#peerDevice || this.#over() || this.#unanswered()) return;
    if (this.direction === "incoming") {
      this.#ctx.send({ kind: "renegotiate", to: this.#peerDevice, iceRestart });
      return;
    }
    void this.#negotiate(iceRestart);
  }

  /** Current statistics from the peer connection. */
  async stats(): Promise<CallStats | undefined> {
    if (!this.#pc) return undefined;
    try {
      return summarizeStats(await this.#pc.getStats());
    } catch {
      return undefined;
    }
  }

  // --- called by the manager ------------------------------------------------------------------------

  /** Caller side: the callee's phone line at a gateway took the call (the manager saw its accept). */
  answeredOnLine(via: ForeignParty, owner: { userId: string; username: string }): void {
    this.#via = via;
    this.#lineOwner = owner;
  }

  /** Caller side: makes the peer connection and the offer, and rings. */
  async startOutgoing(ringTimeoutMs: number): Promise<void> {
    try {
      const pc = await this.#createPeer();
      const audio = pc.addTransceiver("audio", { direction: "sendrecv" });
      // Always negotiated, so a voice call can become a video call without new transceivers.
      const video = pc.addTransceiver("video", { direction: "sendrecv" });
      this.#transceivers = { audio, video };
      this.#control = await this.#startMedia(audio, video);
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      if (this.#over()) return;
      this.#ctx.send({
        kind: "ring",
        media: this.#media,
        sdp: this.#localSdp(),
        ...(this.via ? { via: this.via } : {}),
      });
      this.#canTrickle = true;
      this.#scheduleCandidates();
      this.#ringTimer = setTimeout(() => this.#input({ type: "ring-timeout" }), ringTimeoutMs);
    } catch (error) {
      this.#fail("offer", error);
    }
  }

  /** Callee side: rings until answered, declined, cancelled or expired. */
  startRinging(expireMs: number): void {
    this.#ringTimer = setTimeout(() => this.#input({ type: "ring-timeout" }), expireMs);
  }

  /** A signal of this call from the other side (already checked to come from the right user/device). */
  async onSignal(signal: CallSignal, fromDevice: string): Promise<void> {
    try {
      switch (signal.kind) {
        case "accept": {
          if (this.direction !== "outgoing") return;
          const early = this.state === "early-media";
          // Another of the callee's devices answered at the same moment, or not the one whose early
          // media is playing (its answer is applied already): that one is not in the call.
          if (!ringingOut(this.state) || (early && fromDevice !== this.#peerDevice)) {
            if (fromDevice !== this.#peerDevice)
              this.#ctx.send({ kind: "hangup", to: fromDevice, reason: "answered-elsewhere" });
            return;
          }
          this.#peerDevice = fromDevice;
          this.#input({ type: "remote-accept" });
          if (early) {
            // The answer came with the early media (the accept repeats it): this side may speak now,
            // and ICE may be connected already.
            await this.#applySending();
            const pc = this.#pc;
            if (pc) this.#input({ type: "ice", state: pc.iceConnectionState, now: this.#ctx.now() });
          } else {
            await this.#pc?.setRemoteDescription({ type: "answer", sdp: signal.sdp });
            this.#remoteSet = true;
            await this.#flushRemoteCandidates();
          }
          this.#sendMediaState();
          return;
        }
        case "early":
          if (this.direction !== "outgoing" || this.state !== "ringing-out" || !this.#pc) return;
          this.#peerDevice = fromDevice;
          this.#input({ type: "remote-early" });
          // Quiet before the first packet can flow: the other end has not answered.
          await this.#applySending();
          await this.#pc.setRemoteDescription({ type: "answer", sdp: signal.sdp });
          this.#remoteSet = true;
          await this.#flushRemoteCandidates();
          return;
        case "offer":
          if (this.direction !== "incoming" || !this.#pc) return;
          await this.#pc.setRemoteDescription({ type: "offer", sdp: signal.sdp });
          await this.#flushRemoteCandidates();
          await this.#pc.setLocalDescription(await this.#pc.createAnswer());
          this.#ctx.send({ kind: "answer", to: fromDevice, sdp: this.#localSdp() });
          return;
        case "answer":
          if (this.direction !== "outgoing" || !this.#answerWaiter || !this.#pc) return;
          // Applied here, before the next signal of the chain (its candidates) is handled.
          await this.#pc.setRemoteDescription({ type: "answer", sdp: signal.sdp });
          await this.#flushRemoteCandidates();
          this.#answerWaiter(true);
          return;
        case "renegotiate":
          if (this.direction === "outgoing") void this.#negotiate(signal.iceRestart);
          return;
        case "candidates":
          this.#pendingCandidates.push(...signal.candidates);
          if (this.#remoteSet) await this.#flushRemoteCandidates();
          return;
        case "media":
          this.#remoteMedia = {
            audio: signal.audio,
            video: signal.video,
            held: signal.held === true,
            holdFailed: signal.holdFailed === true,
          };
          if (signal.video) this.#media = "video";
          this.#events.emit("remote-media", this.remoteMedia);
          return;
        case "decline":
          this.#input({ type: "remote-decline", unreachable: signal.reason === "unreachable" });
          return;
        case "busy":
          this.#input({ type: "remote-busy" });
          return;
        case "cancel":
          this.#input({
            type: signal.reason === "answered-elsewhere" ? "answered-elsewhere" : "remote-cancel",
          });
          return;
        case "hangup":
          this.#input({
            type: signal.reason === "answered-elsewhere" ? "answered-elsewhere" : "remote-hangup",
          });
          return;
        case "ring":
          return;
      }
    } catch (error) {
      this.#fail(signal.kind, error);
    }
  }

  /** Another device of this user answered or declined: stop ringing here. */
  handledElsewhere(how: "answered" | "declined"): void {
    this.#input({ type: how === "answered" ? "answered-elsewhere" : "declined-elsewhere" });
  }

  /** The signalling link came back: if media is not flowing, the network probably changed. */
  onSignallingRestored(): void {
    if (this.direction === "outgoing" && this.state === "reconnecting") this.restartIce();
  }

  // --- internals ------------------------------------------------------------------------------------

  /** A method, not the getter: TypeScript would keep the narrowing from before an await. */
  #over(): boolean {
    return this.#machine.state === "ended";
  }

  #input(input: CallInput): void {
    const before = this.#machine.state;
    const { next, effects } = transition(this.#machine, input, this.#ctx.timings);
    this.#machine = next;
    if (next.state !== before && next.state !== "ringing-in" && !ringingOut(next.state))
      clearTimeout(this.#ringTimer);
    for (const e of effects) this.#run(e);
    if (next.state !== before) {
      if (next.state === "connected") this.#startStats();
      this.#events.emit("state", next.state);
    }
  }

  #run(effect: CallEffect): void {
    switch (effect.type) {
      case "send":
        if (!this.#peerDevice) return;
        if (effect.signal === "decline" && effect.unreachable)
          this.#ctx.send({ kind: "decline", to: this.#peerDevice, reason: "unreachable" });
        else this.#ctx.send({ kind: effect.signal, to: this.#peerDevice });
        return;
      case "send-cancel":
        this.#ctx.send({ kind: "cancel", reason: effect.reason });
        return;
      case "restart-ice":
        this.iceRestarts++;
        void this.#negotiate(true);
        return;
      case "arm-reconnect-timer":
        clearTimeout(this.#reconnectTimer);
        this.#reconnectTimer = setTimeout(() => this.#input({ type: "reconnect-timer" }), effect.ms);
        return;
      case "clear-reconnect-timer":
        clearTimeout(this.#reconnectTimer);
        return;
      case "teardown":
        this.#teardown();
        return;
    }
  }

  #teardown(): void {
    this.#endedAt = this.#ctx.now();
    clearTimeout(this.#ringTimer);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#candidateTimer);
    clearInterval(this.#statsTimer);
    this.#answerWaiter?.(false);
    this.#closeMedia();
    this.#ctx.ended(this);
  }

  #closeMedia(): void {
    try {
      this.#control?.stop();
    } catch {
      // Media is being released anyway.
    }
    const pc = this.#pc;
    if (pc) {
      pc.onicecandidate = null;
      pc.oniceconnectionstatechange = null;
      try {
        void Promise.resolve(pc.close()).catch(() => undefined);
      } catch {
        // Closing a broken peer connection must not keep the call alive.
      }
    }
  }

  #fail(step: string, error: unknown): void {
    if (this.#over()) return;
    this.#ctx.warn(
      "call-failed",
      `call setup failed at ${step}: ${error instanceof Error ? error.message : "error"}`,
    );
    this.#input({ type: "fatal" });
  }

  async #createPeer(): Promise<PeerConnectionLike> {
    const pc = this.#ctx.platform.createPeerConnection({
      ...(await this.#ctx.peerConfig()),
      callId: this.id,
    });
    this.#pc = pc;
    pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      if (!c || !c.candidate) return;
      if (this.#ctx.platform.keepCandidate && !this.#ctx.platform.keepCandidate(c.candidate)) return;
      this.#outCandidates.push({
        candidate: c.candidate,
        sdpMid: c.sdpMid ?? null,
        sdpMLineIndex: c.sdpMLineIndex ?? null,
      });
      this.#scheduleCandidates();
    };
    pc.oniceconnectionstatechange = () => {
      this.#input({ type: "ice", state: pc.iceConnectionState, now: this.#ctx.now() });
    };
    return pc;
  }

  /** Not answered yet, on either side (ringing, or early media). */
  #unanswered(): boolean {
    return this.state === "ringing-in" || ringingOut(this.state);
  }

  /** Nothing is sent while this side holds the call, nor while early media plays (not answered). */
  #quiet(): boolean {
    return this.#onHold || this.state === "early-media";
  }

  async #applySending(): Promise<void> {
    await this.#control?.setMuted(this.#muted || this.#quiet());
    if (this.#cameraOn) await this.#control?.setCamera(!this.#quiet());
  }

  #startMedia(audio: RtpTransceiverLike, video: RtpTransceiverLike): Promise<CallMediaControl> {
    return this.#ctx.platform.startMedia({
      callId: this.id,
      audio,
      video,
      cameraOn: this.#cameraOn,
      onDtmf: (key) => this.#events.emit("dtmf", key),
    });
  }

  /** The callee's media and answer (accept(), or earlyMedia() before it): the answer is set locally, not sent. */
  async #answerMedia(): Promise<void> {
    const pc = await this.#createPeer();
    await pc.setRemoteDescription({ type: "offer", sdp: this.#remoteOffer ?? "" });
    this.#remoteSet = true;
    const [audio, video] = pc.getTransceivers();
    if (!audio || !video) throw new Error("the offer lacks an audio or a video section");
    audio.direction = "sendrecv";
    video.direction = "sendrecv";
    this.#transceivers = { audio, video };
    this.#control = await this.#startMedia(audio, video);
    await this.#flushRemoteCandidates();
    await pc.setLocalDescription(await pc.createAnswer());
  }

  #localSdp(): string {
    const sdp = this.#pc?.localDescription?.sdp ?? "";
    const keep = this.#ctx.platform.keepCandidate;
    if (!keep) return sdp;
    return sdp
      .split("\r\n")
      .filter((line) => !line.startsWith("a=candidate:") || keep(line.slice(2)))
      .join("\r\n");
  }

  /** Candidates found within a few ms travel together (one MLS message instead of many). */
  #scheduleCandidates(): void {
    if (!this.#canTrickle || this.#candidateTimer || this.#outCandidates.length === 0) return;
    this.#candidateTimer = setTimeout(() => {
      this.#candidateTimer = undefined;
      if (this.#over()) return;
      const batch = this.#outCandidates.splice(0, 64);
      const to = this.#peerDevice;
      // The caller's candidates go to every callee device until one answers.
      this.#ctx.send(
        to ? { kind: "candidates", to, candidates: batch } : { kind: "candidates", candidates: batch },
      );
      this.#scheduleCandidates();
    }, CANDIDATE_BATCH_MS);
  }

  async #flushRemoteCandidates(): Promise<void> {
    const pc = this.#pc;
    if (!pc || !this.#remoteSet) return;
    for (const c of this.#pendingCandidates.splice(0)) {
      try {
        await pc.addIceCandidate({
          candidate: c.candidate,
          sdpMid: c.sdpMid,
          sdpMLineIndex: c.sdpMLineIndex,
        });
      } catch {
        // A candidate from an older ICE generation, or one the platform cannot use: skip it.
      }
    }
  }

  /** Caller: one offer/answer round at a time; a request during one runs right after it. */
  async #negotiate(iceRestart: boolean): Promise<void> {
    if (this.direction !== "outgoing") return;
    if (this.#negotiation) {
      this.#renegotiateAgain = { iceRestart: iceRestart || (this.#renegotiateAgain?.iceRestart ?? false) };
      return;
    }
    this.#negotiation = (async () => {
      const pc = this.#pc;
      const to = this.#peerDevice;
      if (!pc || !to || this.#over()) return;
      const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : {});
      await pc.setLocalDescription(offer);
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ANSWER_TIMEOUT_MS);
        this.#answerWaiter = (ok) => {
          clearTimeout(timer);
          this.#answerWaiter = undefined;
          resolve(ok);
        };
      });
      this.#ctx.send({ kind: "offer", to, sdp: this.#localSdp() });
      if (!(await answered) && !this.#over()) {
        // No answer (the callee's link is down too): roll back so the next attempt can offer again.
        this.#answerWaiter = undefined;
        await pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
      }
    })()
      .catch((error: unknown) => {
        this.#ctx.warn(
          "call-renegotiation-failed",
          `renegotiation failed: ${error instanceof Error ? error.message : "error"}`,
        );
      })
      .finally(() => {
        this.#negotiation = undefined;
        const again = this.#renegotiateAgain;
        this.#renegotiateAgain = undefined;
        if (again && !this.#over()) void this.#negotiate(again.iceRestart);
      });
    return this.#negotiation;
  }

  #sendMediaState(): void {
    if (!this.#peerDevice || this.#over() || this.#unanswered()) return;
    this.#ctx.send({
      kind: "media",
      to: this.#peerDevice,
      audio: !this.#muted,
      video: this.#cameraOn,
      // Only while held: older devices drop the field, and its absence is "not held".
      ...(this.#onHold ? { held: true } : {}),
      ...(this.#holdFailed ? { holdFailed: true } : {}),
    });
  }

  #startStats(): void {
    if (this.#statsTimer) return;
    this.#statsTimer = setInterval(() => {
      void this.stats().then((s) => {
        if (s && s.quality !== this.#quality && !this.#over()) {
          this.#quality = s.quality;
          this.#events.emit("quality", s.quality);
        }
      });
    }, STATS_INTERVAL_MS);
    (this.#statsTimer as { unref?: () => void }).unref?.();
  }
}
