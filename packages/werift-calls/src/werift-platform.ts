import {
  type CallMediaControl,
  type CallPlatform,
  DtmfError,
  DtmfReceiver,
  DtmfSender,
  type PeerConnectionConfig,
  type PeerConnectionLike,
  type RtpTransceiverLike,
} from "@sori/sdk";
import {
  type MediaStreamTrack,
  type RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
} from "werift";
import { sendTelephoneEvent } from "./telephone-event.ts";
import { PCMU_FRAME_SAMPLES, ToneSource } from "./tone.ts";
import { VP8_KEYFRAME } from "./vp8-fixture.ts";
import { weriftPeerConnection } from "./werift-peer.ts";

/** RTP packets this device sent and received over all its calls (what `sori call --json` reports). */
export type PacketCounters = {
  sent: number;
  received: number;
  /** Of `received`, the video packets. */
  receivedVideo: number;
  firstReceivedAt: number | null;
};

export type WeriftPlatformOptions = {
  /** Only 127.0.0.1 candidates (tests and benchmarks on one machine). */
  loopback?: boolean;
  /** Tone frequency, so two peers in a test are told apart. */
  toneHz?: number;
  /** Every audio payload received (PCMU), for a test that checks what it hears. */
  onAudio?: (payload: Buffer) => void;
};

const FRAME_MS = 20;
const VIDEO_FRAME_MS = 100;
/** Offered for RFC 4733 keypad events; in an answer the offer's number is used instead. */
const TELEPHONE_EVENT_PT = 101;

/**
 * Calls from Node with werift: a generated tone as the microphone (PCMU, the one codec every WebRTC
 * endpoint must support), and a fixed VP8 keyframe as the camera. Counts RTP packets both ways, and
 * sends and reports keypad keys (RFC 4733 telephone-event/8000), e.g. a phone's menu's.
 */
export function weriftPlatform(options: WeriftPlatformOptions = {}): {
  platform: CallPlatform;
  counters: PacketCounters;
} {
  const counters: PacketCounters = { sent: 0, received: 0, receivedVideo: 0, firstReceivedAt: null };
  const pcs = new Map<string, RTCPeerConnection>();
  let lastPc: RTCPeerConnection | undefined;

  const platform: CallPlatform = {
    createPeerConnection(config: PeerConnectionConfig): PeerConnectionLike {
      const pc = weriftPeerConnection(config, {
        loopback: options.loopback ?? false,
        audio: [
          new RTCRtpCodecParameters({ mimeType: "audio/PCMU", clockRate: 8000, channels: 1, payloadType: 0 }),
          new RTCRtpCodecParameters({
            mimeType: "audio/telephone-event",
            clockRate: 8000,
            channels: 1,
            payloadType: TELEPHONE_EVENT_PT,
            parameters: "0-16",
          }),
        ],
        video: [
          new RTCRtpCodecParameters({
            mimeType: "video/VP8",
            clockRate: 90000,
            payloadType: 96,
            rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
          }),
        ],
      });
      lastPc = pc;
      // werift's peer connection has the browser's shape for everything the call code uses; its
      // TypeScript types differ only in event and stats classes.
      return pc as unknown as PeerConnectionLike;
    },

    async startMedia({ callId, audio, video, cameraOn, onDtmf }): Promise<CallMediaControl> {
      const pc = lastPc;
      if (!pc) throw new Error("no peer connection for this call");
      pcs.set(callId, pc);
      // The call code hands back the transceivers this platform's peer connection made.
      const a = audio as RtpTransceiverLike as unknown as RTCRtpTransceiver;
      const v = video as RtpTransceiverLike as unknown as RTCRtpTransceiver;
      const counted = new Set<MediaStreamTrack>();
      const keys = new DtmfReceiver();
      const count = (track: MediaStreamTrack): void => {
        if (counted.has(track)) return;
        counted.add(track);
        track.onReceiveRtp.subscribe((rtp) => {
          if (track.kind === "audio") {
            // Keypad events share the audio stream under their own payload type: keys, not sound.
            // Read from the negotiated codecs each time: a renegotiation may number them anew.
            const events = a.codecs.find((c) => c.mimeType.toLowerCase() === "audio/telephone-event");
            if (events && rtp.header.payloadType === events.payloadType) {
              const key = keys.push(rtp.header.timestamp, rtp.payload);
              if (key !== undefined) onDtmf?.(key);
            } else options.onAudio?.(rtp.payload);
          }
          counters.received++;
          if (track.kind === "video") counters.receivedVideo++;
          counters.firstReceivedAt ??= Date.now();
        });
      };
      for (const t of [a, v]) {
        // On the answering side the remote tracks exist already (made by setRemoteDescription).
        for (const track of t.receiver.tracks) count(track);
        t.onTrack.subscribe(count);
      }
      const tone = new ToneSource(options.toneHz ?? 440);
      let muted = false;
      let camera = cameraOn;
      let seq = Math.floor(Math.random() * 65535);
      let ts = Math.floor(Math.random() * 2 ** 31);
      let vseq = Math.floor(Math.random() * 65535);
      let vts = Math.floor(Math.random() * 2 ** 31);
      const live = (): boolean => pc.connectionState === "connected";
      const events = (): RTCRtpCodecParameters | undefined =>
        a.codecs.find((c) => c.mimeType.toLowerCase() === "audio/telephone-event");
      const keysOut = new DtmfSender();
      const audioTimer = setInterval(() => {
        const payload = tone.nextFrame(muted);
        seq = (seq + 1) & 0xffff;
        ts = (ts + PCMU_FRAME_SAMPLES) >>> 0;
        if (!live()) return;
        // A key being sent takes the frame's place (same stream, sequence and clock: RFC 4733 §2.1).
        const key = keysOut.pending > 0 ? keysOut.next(ts) : undefined;
        const eventType = events()?.payloadType;
        if (key && eventType !== undefined) {
          for (let i = 0; i < key.copies; i++) {
            if (i > 0) seq = (seq + 1) & 0xffff;
            const header = new RtpHeader({
              payloadType: eventType,
              sequenceNumber: seq,
              timestamp: key.timestamp,
              marker: key.marker,
            });
            counters.sent++;
            void sendTelephoneEvent(a.sender, new RtpPacket(header, Buffer.from(key.payload))).catch(
              () => undefined,
            );
          }
          return;
        }
        const packet = new RtpPacket(
          new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker: false }),
          payload,
        );
        counters.sent++;
        void a.sender.sendRtp(packet).catch(() => undefined);
      }, FRAME_MS);
      const videoTimer = setInterval(() => {
        vseq = (vseq + 1) & 0xffff;
        vts = (vts + (90000 * VIDEO_FRAME_MS) / 1000) >>> 0;
        if (!camera || !live()) return;
        const packet = new RtpPacket(
          new RtpHeader({ sequenceNumber: vseq, timestamp: vts, marker: true }),
          Buffer.from(VP8_KEYFRAME),
        );
        counters.sent++;
        void v.sender.sendRtp(packet).catch(() => undefined);
      }, VIDEO_FRAME_MS);
      return {
        setMuted: (m) => {
          muted = m;
        },
        setCamera: (on) => {
          camera = on;
        },
        // One generated source per kind: there is nothing to switch to.
        switchInput: async () => undefined,
        sendDtmf: (tones) => {
          // Only where the call negotiated telephone-event/8000 (a gateway does for G.711/G.722 phones).
          if (events() === undefined)
            throw new DtmfError("not-available", "this call cannot carry DTMF tones");
          keysOut.enqueue(tones);
        },
        stop: () => {
          clearInterval(audioTimer);
          clearInterval(videoTimer);
          pcs.delete(callId);
        },
      };
    },

    keepCandidate: options.loopback ? (c) => c.includes(" 127.0.0.1 ") : undefined,
  };
  return { platform, counters };
}
