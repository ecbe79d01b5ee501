import { parse, write } from "sdp-transform";

/** A codec both legs can carry as it is (no transcoding): RTP payloads pass through unchanged. */
export type RelayCodec = {
  /** werift/WebRTC MIME type. */
  mimeType: "audio/opus" | "audio/G722" | "audio/PCMU" | "audio/PCMA";
  /** Name and rate as SDP writes them (G.722's RTP clock is 8000 by RFC 3551's mistake). */
  name: string;
  clockRate: number;
  channels: number;
  /** The phone's payload type for it. */
  payloadType: number;
  fmtp: string | undefined;
};

/** RFC 3264 §6.1: which way media flows, from the point of view of the SDP's writer. */
export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** The direction that answers `offered` (RFC 3264 §6.1): a phone that only sends is only received. */
export function answerDirection(offered: MediaDirection): MediaDirection {
  return offered === "sendonly" ? "recvonly" : offered === "recvonly" ? "sendonly" : offered;
}

/** Whether an SDP of this direction takes media (a phone on hold does not: sendonly or inactive). */
export function receives(d: MediaDirection): boolean {
  return d === "sendrecv" || d === "recvonly";
}

/** Whether an SDP of this direction sends media. */
export function sends(d: MediaDirection): boolean {
  return d === "sendrecv" || d === "sendonly";
}

/** What the phone offered (or answered) for audio. */
export type PhoneMedia = {
  address: string;
  port: number;
  /** The phone's direction; `c=0.0.0.0` (RFC 2543's hold, RFC 3264 §8.4) counts as not receiving. */
  direction: MediaDirection;
  /** Codecs the gateway can relay, in the phone's order of preference. */
  codecs: RelayCodec[];
  /** RFC 4733 telephone-event payload type at 8000 Hz, if the phone offered DTMF events. */
  telephoneEvent: number | undefined;
  /** Everything the phone offered for audio, for the 488 reason when none fits. */
  offered: string[];
};

export class SdpError extends Error {
  readonly code: "no-audio" | "unsupported-transport" | "malformed";
  constructor(code: SdpError["code"], message: string) {
    super(message);
    this.name = "SdpError";
    this.code = code;
  }
}

const STATIC: Record<number, { name: string; clockRate: number }> = {
  0: { name: "PCMU", clockRate: 8000 },
  8: { name: "PCMA", clockRate: 8000 },
  9: { name: "G722", clockRate: 8000 },
};
const RELAYABLE: Record<string, RelayCodec["mimeType"]> = {
  opus: "audio/opus",
  g722: "audio/G722",
  pcmu: "audio/PCMU",
  pcma: "audio/PCMA",
};

/** Reads a phone's SDP: where to send RTP and which codecs can be relayed. */
export function readPhoneSdp(sdp: string): PhoneMedia {
  let session: ReturnType<typeof parse>;
  try {
    session = parse(sdp);
  } catch {
    throw new SdpError("malformed", "the SDP could not be parsed");
  }
  const audio = session.media?.find((m) => m.type === "audio" && m.port !== 0);
  if (!audio) throw new SdpError("no-audio", "the offer has no audio stream");
  if (!/^RTP\/(AVP|AVPF)$/i.test(audio.protocol))
    throw new SdpError(
      "unsupported-transport",
      `the audio stream uses ${audio.protocol}; the gateway speaks plain RTP`,
    );
  const address = audio.connection?.ip ?? session.connection?.ip;
  if (!address) throw new SdpError("malformed", "the offer has no connection address");
  const { codecs, telephoneEvent, offered } = relayable(audio);
  const stated = audio.direction ?? session.direction ?? "sendrecv";
  const direction = isNullAddress(address) ? (sends(stated) ? "sendonly" : "inactive") : stated;
  return { address, port: audio.port, direction, codecs, telephoneEvent, offered };
}

/** 0.0.0.0 (or ::): an address nothing can be sent to, which old phones put on hold with. */
export function isNullAddress(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

type MediaSection = NonNullable<ReturnType<typeof parse>["media"]>[number];

/** The codecs of an audio section the gateway can relay as they are, in its order of preference. */
function relayable(audio: MediaSection): Pick<PhoneMedia, "codecs" | "telephoneEvent" | "offered"> {
  const payloads = String(audio.payloads ?? "")
    .split(/\s+/)
    .filter((p) => p !== "")
    .map(Number);
  const codecs: RelayCodec[] = [];
  const offered: string[] = [];
  let telephoneEvent: number | undefined;
  for (const pt of payloads) {
    const rtp = audio.rtp?.find((r) => r.payload === pt);
    const name = rtp?.codec ?? STATIC[pt]?.name;
    const rate = rtp?.rate ?? STATIC[pt]?.clockRate;
    if (!name || !rate) continue;
    offered.push(`${name}/${rate}`);
    if (name.toLowerCase() === "telephone-event") {
      if (rate === 8000) telephoneEvent = pt;
      continue;
    }
    const mimeType = RELAYABLE[name.toLowerCase()];
    if (!mimeType) continue;
    codecs.push({
      mimeType,
      name,
      clockRate: rate,
      channels: Number(rtp?.encoding ?? (mimeType === "audio/opus" ? 2 : 1)),
      payloadType: pt,
      fmtp: audio.fmtp?.find((f) => f.payload === pt)?.config,
    });
  }
  return { codecs, telephoneEvent, offered };
}

/**
 * What a Sori device's WebRTC offer (DTLS-SRTP) proposes for audio that a phone could take as it is,
 * and its telephone-event/8000 payload type (Chromium offers one) for DTMF.
 */
export function readOfferCodecs(sdp: string): Pick<PhoneMedia, "codecs" | "telephoneEvent"> {
  let session: ReturnType<typeof parse>;
  try {
    session = parse(sdp);
  } catch {
    throw new SdpError("malformed", "the offer could not be parsed");
  }
  const audio = session.media?.find((m) => m.type === "audio" && m.port !== 0);
  if (!audio) throw new SdpError("no-audio", "the offer has no audio stream");
  const { codecs, telephoneEvent } = relayable(audio);
  return { codecs, telephoneEvent };
}

/** The telephone-event/8000 payload type of an SDP's audio stream (a Sori side's answer), if any. */
export function readTelephoneEvent(sdp: string): number | undefined {
  try {
    const audio = parse(sdp).media?.find((m) => m.type === "audio" && m.port !== 0);
    return audio ? relayable(audio).telephoneEvent : undefined;
  } catch {
    return undefined;
  }
}

/** The gateway's SDP towards the phone: one audio stream, plain RTP, the one codec both legs share. */
export function writePhoneSdp(o: {
  address: string;
  port: number;
  /** One in an answer; every codec the Sori side offered in an offer. */
  codecs: RelayCodec[];
  telephoneEvent: number | undefined;
  sessionId: number;
  version: number;
  /** sendrecv unless answering a phone's hold (answerDirection). */
  direction?: MediaDirection;
}): string {
  const payloads = [
    ...o.codecs.map((c) => c.payloadType),
    ...(o.telephoneEvent !== undefined ? [o.telephoneEvent] : []),
  ];
  return write({
    version: 0,
    origin: {
      username: "sori",
      sessionId: o.sessionId,
      sessionVersion: o.version,
      netType: "IN",
      ipVer: o.address.includes(":") ? 6 : 4,
      address: o.address,
    },
    name: "Sori",
    connection: { version: o.address.includes(":") ? 6 : 4, ip: o.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: "audio",
        port: o.port,
        protocol: "RTP/AVP",
        payloads: payloads.join(" "),
        rtp: [
          ...o.codecs.map((c) => ({
            payload: c.payloadType,
            codec: c.name,
            rate: c.clockRate,
            ...(c.channels > 1 ? { encoding: c.channels } : {}),
          })),
          ...(o.telephoneEvent !== undefined
            ? [{ payload: o.telephoneEvent, codec: "telephone-event", rate: 8000 }]
            : []),
        ],
        fmtp: [
          ...o.codecs.filter((c) => c.fmtp).map((c) => ({ payload: c.payloadType, config: c.fmtp! })),
          ...(o.telephoneEvent !== undefined ? [{ payload: o.telephoneEvent, config: "0-16" }] : []),
        ],
        direction: o.direction ?? "sendrecv",
        ptime: 20,
      },
    ],
  });
}

/**
 * The gateway's SDP towards the phone after `previous` (the last it sent in this dialog): the same
 * o= session id, and the version raised by one only when something else changed (RFC 3264 §8: an
 * unchanged description keeps its version, so a phone's session refresh gets back exactly what it had).
 */
export function reviseSdp(
  previous: string,
  next: Omit<Parameters<typeof writePhoneSdp>[0], "sessionId" | "version">,
): string {
  const origin = parse(previous).origin;
  const sessionId = Number(origin?.sessionId ?? 0);
  const version = Number(origin?.sessionVersion ?? 0);
  const same = writePhoneSdp({ ...next, sessionId, version });
  return same === previous ? same : writePhoneSdp({ ...next, sessionId, version: version + 1 });
}
