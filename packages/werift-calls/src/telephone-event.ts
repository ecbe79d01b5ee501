import type { RtpPacket } from "werift";

/** What of werift's audio sender a telephone-event needs: its SSRC and its DTLS transport (SRTP). */
export type EventSender = {
  readonly ssrc: number;
  readonly dtlsTransport: {
    readonly state: string;
    sendRtp(payload: Buffer, header: RtpPacket["header"]): Promise<number>;
  };
};

/**
 * Sends one RFC 4733 telephone-event packet on the audio sender's stream, with the sender's SSRC and
 * the packet's own payload type, sequence number, timestamp and marker. Not through
 * `sender.sendRtp`: werift stamps every packet it sends there with the audio codec's payload type,
 * which would turn keys into noise. Sori's werift peers negotiate no RTP header extensions, so the
 * sender would add none either. Nothing is sent before DTLS is up.
 */
export async function sendTelephoneEvent(sender: EventSender, packet: RtpPacket): Promise<void> {
  if (sender.dtlsTransport.state !== "connected") return;
  packet.header.ssrc = sender.ssrc;
  await sender.dtlsTransport.sendRtp(packet.payload, packet.header);
}
