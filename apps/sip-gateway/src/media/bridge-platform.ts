import type {
  CallMediaControl,
  CallPlatform,
  PeerConnectionConfig,
  PeerConnectionLike,
  RtpTransceiverLike,
} from "@sori/sdk";
import { weriftPeerConnection } from "@sori/werift-calls";
import { parse, write } from "sdp-transform";
import { type RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver, RtpPacket } from "werift";
import { relayEvent } from "./event-relay.ts";
import { type MediaDirection, type RelayCodec, receives, sends } from "./phone-sdp.ts";
import type { PhoneRtpLeg } from "./phone-rtp.ts";

/** What one call bridges: the phone's RTP socket and the codecs it can take. */
export type BridgeLeg = {
  rtp: PhoneRtpLeg;
  /** Offered to the Sori side in this order; the one it picks is relayed as it is. */
  codecs: RelayCodec[];
  /** The phone's payload type for what the Sori side sends, once known. */
  phonePayloadType: number | undefined;
  /**
   * The Sori side's payload type for RFC 4733 telephone-event/8000 (offered to it, or taken from its
   * offer), when the call may carry DTMF events.
   */
  telephoneEvent: number | undefined;
  /** The phone's payload type for telephone-event/8000 once both legs agreed on it; else events are dropped. */
  phoneTelephoneEvent: number | undefined;
  /**
   * The phone's direction as its SDP last said (re-INVITEs change it): nothing is sent to a phone
   * that does not receive (on hold), nothing taken from one that said it does not send.
   */
  phoneDirection: MediaDirection;
  /**
   * The phone plays early media (a call out, not answered yet): its audio reaches the Sori caller,
   * nothing goes to the phone until it answers.
   */
  early: boolean;
  /**
   * The Sori side holds the call (sori-hold.ts): nothing passes either way, whether or not the phone
   * took the re-INVITE that told it so.
   */
  soriHeld: boolean;
};

export type BridgeOptions = {
  /** Only 127.0.0.1 ICE candidates (tests and benchmarks on one machine). */
  loopback?: boolean;
};

/**
 * The gateway's call platform: werift peer connections whose audio is the phone's RTP, relayed
 * without transcoding in both directions. Every call is tied to its leg by call id.
 */
export class BridgePlatform {
  readonly platform: CallPlatform;
  readonly #legs = new Map<string, BridgeLeg>();
  readonly #pcs = new Map<string, RTCPeerConnection>();

  constructor(options: BridgeOptions = {}) {
    this.platform = {
      createPeerConnection: (config) => this.#create(config, options),
      startMedia: (context) => this.#startMedia(context),
      keepCandidate: options.loopback ? (c) => c.includes(" 127.0.0.1 ") : undefined,
    };
  }

  /** Ties a call to its phone leg before its peer connection is made (`prepare`, or before accept()). */
  bind(callId: string, leg: BridgeLeg): void {
    this.#legs.set(callId, leg);
  }

  /** The Sori side's answer (or offer) for a call, once set: which codec it picked. */
  remoteSdp(callId: string): string | undefined {
    return this.#pcs.get(callId)?.remoteDescription?.sdp;
  }

  release(callId: string): void {
    this.#legs.delete(callId);
    this.#pcs.delete(callId);
  }

  #legFor(callId: string): BridgeLeg {
    const leg = this.#legs.get(callId);
    if (!leg) throw new Error(`no phone leg for call ${callId}`);
    return leg;
  }

  #create(config: PeerConnectionConfig, options: BridgeOptions): PeerConnectionLike {
    const leg = this.#legFor(config.callId);
    const pc = weriftPeerConnection(config, {
      loopback: options.loopback ?? false,
      // The phone's payload type numbers are kept, so packets pass with their type unchanged.
      audio: [
        ...leg.codecs.map(
          (c) =>
            new RTCRtpCodecParameters({
              mimeType: c.mimeType,
              clockRate: c.mimeType === "audio/opus" ? 48000 : 8000,
              channels: c.mimeType === "audio/opus" ? 2 : 1,
              payloadType: c.payloadType,
              ...(c.fmtp ? { parameters: c.fmtp } : {}),
            }),
        ),
        // DTMF keys (RFC 4733) ride the audio stream as their own payload type, relayed like audio.
        ...(leg.telephoneEvent !== undefined
          ? [
              new RTCRtpCodecParameters({
                mimeType: "audio/telephone-event",
                clockRate: 8000,
                channels: 1,
                payloadType: leg.telephoneEvent,
                parameters: "0-16",
              }),
            ]
          : []),
      ],
      // Negotiated because every Sori call has a video transceiver; a phone never sends video.
      video: [new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, payloadType: 96 })],
    });
    this.#pcs.set(config.callId, pc);
    // werift pairs telephone-event by name alone and would answer Chromium's telephone-event/48000
    // (Opus's clock) beside PCMU, so the browser's DTMF would carry the wrong clock and payload
    // type: the Sori side's SDP reaches werift with only the 8000 Hz one.
    const setRemote = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = (description) =>
      setRemote(description.sdp ? { ...description, sdp: onlyEventsAt8000(description.sdp) } : description);
    // werift's peer connection has the browser's shape for everything the call code uses.
    return pc as unknown as PeerConnectionLike;
  }

  async #startMedia(context: {
    callId: string;
    audio: RtpTransceiverLike;
    video: RtpTransceiverLike;
    cameraOn: boolean;
  }): Promise<CallMediaControl> {
    const leg = this.#legFor(context.callId);
    const audio = context.audio as unknown as RTCRtpTransceiver;
    const pc = this.#pcs.get(context.callId);
    let muted = false;
    const toPhone = (rtp: RtpPacket): void => {
      if (leg.early || leg.soriHeld || !receives(leg.phoneDirection)) return;
      const pt = rtp.header.payloadType;
      // Two payload types share the stream: the codec's and telephone-event's; each maps to the phone's.
      if (leg.telephoneEvent !== undefined && pt === leg.telephoneEvent) {
        if (leg.phoneTelephoneEvent !== undefined) leg.rtp.send(rtp.serialize(), leg.phoneTelephoneEvent);
        return;
      }
      leg.rtp.send(rtp.serialize(), leg.phonePayloadType ?? pt);
    };
    const subscribed = new Set<unknown>();
    const listen = (track: { onReceiveRtp: { subscribe(f: (rtp: RtpPacket) => void): unknown } }): void => {
      if (subscribed.has(track)) return;
      subscribed.add(track);
      track.onReceiveRtp.subscribe(toPhone);
    };
    for (const track of audio.receiver.tracks) listen(track);
    audio.onTrack.subscribe(listen);
    leg.rtp.onPacket((packet) => {
      if (muted || leg.soriHeld || !sends(leg.phoneDirection) || pc?.connectionState !== "connected") return;
      const pt = packet[1]! & 0x7f;
      const event = leg.phoneTelephoneEvent !== undefined && pt === leg.phoneTelephoneEvent;
      // Only the codec both legs agreed on passes as audio: anything else the phone sends (comfort
      // noise, events nobody agreed on) would reach the Sori side as noise under the codec's type.
      if (!event && leg.phonePayloadType !== undefined && pt !== leg.phonePayloadType) return;
      let rtp: RtpPacket;
      try {
        rtp = RtpPacket.deSerialize(packet);
      } catch {
        // What the phone's socket let through is well-formed; anything werift still refuses is dropped.
        return;
      }
      if (event) {
        // The phone's keys, with the Sori side's number for telephone-event (see event-relay.ts).
        if (leg.telephoneEvent !== undefined)
          void relayEvent(audio.sender, rtp, leg.telephoneEvent).catch(() => undefined);
        return;
      }
      void audio.sender.sendRtp(rtp).catch(() => undefined);
    });
    return {
      setMuted: (m) => {
        muted = m;
      },
      // A phone has no camera: nothing to switch on.
      setCamera: () => undefined,
      switchInput: async () => undefined,
      stop: () => {
        leg.rtp.close();
        this.release(context.callId);
      },
    };
  }
}

/** An SDP without telephone-event payload types other than 8000 Hz ones (see `#create`). */
function onlyEventsAt8000(sdp: string): string {
  const session = parse(sdp);
  let changed = false;
  for (const m of session.media ?? []) {
    if (m.type !== "audio") continue;
    const drop = new Set(
      m.rtp
        .filter((r) => r.codec.toLowerCase() === "telephone-event" && r.rate !== 8000)
        .map((r) => r.payload),
    );
    if (drop.size === 0) continue;
    changed = true;
    m.rtp = m.rtp.filter((r) => !drop.has(r.payload));
    m.fmtp = m.fmtp.filter((f) => !drop.has(f.payload));
    m.rtcpFb = m.rtcpFb?.filter((f) => !drop.has(Number(f.payload)));
    m.payloads = String(m.payloads ?? "")
      .split(" ")
      .filter((p) => p !== "" && !drop.has(Number(p)))
      .join(" ");
  }
  // Untouched SDP passes as it came (write() would re-serialise every line).
  return changed ? write(session) : sdp;
}
