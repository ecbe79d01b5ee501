import { type EventSender, sendTelephoneEvent } from "@sori/werift-calls";
import { RtpHeader, RtpPacket } from "werift";

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

/** Sends a phone's telephone-event packet to the Sori side (on the audio sender's stream, as the Sori side's). */
export function relayEvent(sender: EventSender, packet: RtpPacket, payloadType: number): Promise<void> {
  return sendTelephoneEvent(sender, eventForSori(packet, { payloadType, ssrc: sender.ssrc }));
}
