import { RtpHeader, RtpPacket } from "werift";

/** What of werift's audio sender the relay uses: its SSRC and its DTLS transport (SRTP). */
export type EventSender = {
  readonly ssrc: number;
  readonly dtlsTransport: {
    readonly state: string;
    sendRtp(payload: Buffer, header: RtpHeader): Promise<number>;
  };
};

/**
 * A phone's RFC 4733 telephone-event packet as the Sori side gets it: the Sori side's payload type
 * and the audio sender's SSRC; sequence number, timestamp, marker and payload (event, end bit,
 * volume, duration) as the phone sent them. werift relays the phone's audio with the phone's
 * numbering (its sender adds an offset only when a track is replaced, and the bridge attaches
 * none), so events and audio stay one stream with one sequence and one clock (RFC 4733 §2.1). Every
 * packet passes, the three end packets too: they are the receiver's protection against loss, and
 * telling one press from its repeats is the receiver's job (the SDK's DtmfReceiver).
 */
export function eventForSori(packet: RtpPacket, o: { payloadType: number; ssrc: number }): RtpPacket {
  return new RtpPacket(
    new RtpHeader({
      marker: packet.header.marker,
      payloadType: o.payloadType,
      sequenceNumber: packet.header.sequenceNumber,
      timestamp: packet.header.timestamp,
      ssrc: o.ssrc,
    }),
    packet.payload,
  );
}

/**
 * Sends a phone's telephone-event packet to the Sori side. Not through `sender.sendRtp`: werift stamps
 * every packet it sends there with the audio codec's payload type, which would turn keys into noise.
 * The bridge negotiates no RTP header extensions, so the sender would add none either.
 */
export async function relayEvent(sender: EventSender, packet: RtpPacket, payloadType: number): Promise<void> {
  if (sender.dtlsTransport.state !== "connected") return;
  const out = eventForSori(packet, { payloadType, ssrc: sender.ssrc });
  await sender.dtlsTransport.sendRtp(out.payload, out.header);
}
