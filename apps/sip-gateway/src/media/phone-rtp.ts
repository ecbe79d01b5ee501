import { createSocket, type Socket } from "node:dgram";
import { randomBytes } from "node:crypto";

/** Ports the phone legs' RTP sockets take, e.g. 40000–40999 (one even port per call). */
export type PortRange = { min: number; max: number };

class MediaPortError extends Error {
  readonly code = "no-media-port";
  constructor(range: PortRange) {
    super(`no free RTP port in ${range.min}–${range.max}`);
    this.name = "MediaPortError";
  }
}

export type RtpLegStats = {
  received: number;
  sent: number;
  /** Packets from anyone but the negotiated peer: dropped (no RTP bleed). */
  dropped: number;
  lastReceivedAt: number | null;
};

const RTP_HEADER_BYTES = 12;
/** Sources a leg was latched to before the phone moved its media, refused from then on. */
const RETIRED_SOURCES = 8;

/** Version 2, and the CSRC list and header extension it announces fit in the packet (RFC 3550 §5.1). */
function wellFormed(packet: Buffer): boolean {
  if (packet.length < RTP_HEADER_BYTES || packet[0]! >> 6 !== 2) return false;
  let header = RTP_HEADER_BYTES + (packet[0]! & 0x0f) * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < header + 4) return false;
    header += 4 + packet.readUInt16BE(header + 2) * 4;
  }
  return packet.length >= header;
}
let nextPort = 0;

/**
 * The phone's side of one call: a UDP socket for plain RTP. It sends to the address the phone's
 * SDP gave and takes packets only from that address (symmetric RTP latches the port, not the host,
 * so a phone behind NAT works while a stranger's packets are dropped and counted).
 */
export class PhoneRtpLeg {
  readonly port: number;
  readonly stats: RtpLegStats = { received: 0, sent: 0, dropped: 0, lastReceivedAt: null };
  readonly #socket: Socket;
  readonly #ssrc = randomBytes(4);
  #peer: { address: string; port: number } | undefined;
  /** The address the phone's SIP came from: behind NAT its RTP comes from there, not from its SDP's. */
  #signalling: string | undefined;
  #latched = false;
  /** "address port" of sources given up by moveTo(): late packets from them must not latch again. */
  readonly #retired: string[] = [];
  #onPacket: ((packet: Buffer) => void) | undefined;
  #closed = false;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.port = port;
    socket.on("message", (packet, from) => this.#receive(packet, from.address, from.port));
    // A closed or unreachable phone port (ICMP) must not end the process.
    socket.on("error", () => undefined);
  }

  /** Binds the next free even port of `range` on `address`. */
  static async open(address: string, range: PortRange): Promise<PhoneRtpLeg> {
    const count = Math.floor((range.max - range.min) / 2) + 1;
    for (let i = 0; i < count; i++) {
      const port = range.min + (nextPort++ % count) * 2;
      const socket = createSocket({ type: address.includes(":") ? "udp6" : "udp4" });
      const bound = await new Promise<boolean>((resolve) => {
        socket.once("error", () => resolve(false));
        socket.bind(port, address, () => resolve(true));
      });
      if (bound) return new PhoneRtpLeg(socket, port);
      socket.close();
    }
    throw new MediaPortError(range);
  }

  /**
   * Where the phone said it receives RTP (its SDP c= and m= lines), and where its SIP came from.
   * The first well-formed packet from either address latches the leg to its source (symmetric RTP,
   * RFC 4961), which is how a phone behind NAT is reached; after that every other source is dropped.
   */
  connect(peer: { address: string; port: number }, signallingAddress?: string): void {
    this.#peer = { ...peer };
    this.#signalling = signallingAddress;
    this.#latched = false;
  }

  /**
   * The phone moved its media (a re-INVITE with a new address or port): latch anew as connect()
   * does, but never back to the source the leg was latched to. Its packets still on their way (or a
   * phone that goes on sending from there) are dropped and counted instead of winning the new latch.
   */
  moveTo(peer: { address: string; port: number }): void {
    const old = this.#peer;
    if (old && this.#latched) this.#retired.push(`${old.address} ${old.port}`);
    if (this.#retired.length > RETIRED_SOURCES) this.#retired.shift();
    // Moving back to a source given up earlier is the phone's right.
    const back = this.#retired.indexOf(`${peer.address} ${peer.port}`);
    if (back >= 0) this.#retired.splice(back, 1);
    this.#peer = { ...peer };
    this.#latched = false;
  }

  onPacket(listener: (packet: Buffer) => void): void {
    this.#onPacket = listener;
  }

  /**
   * Sends one RTP packet to the phone as the gateway's own stream (its SSRC, the phone's payload
   * type). The packet is rewritten in place: callers pass a buffer of their own (a fresh
   * serialization), so the relay's hot path copies nothing.
   */
  send(packet: Buffer, payloadType: number): void {
    const peer = this.#peer;
    if (!peer || this.#closed || packet.length < RTP_HEADER_BYTES) return;
    const out = packet;
    out[1] = (out[1]! & 0x80) | (payloadType & 0x7f);
    this.#ssrc.copy(out, 8);
    this.stats.sent++;
    this.#socket.send(out, peer.port, peer.address);
  }

  #receive(packet: Buffer, address: string, port: number): void {
    const peer = this.#peer;
    const known = address === peer?.address || (!this.#latched && address === this.#signalling);
    const retired = this.#retired.length > 0 && this.#retired.includes(`${address} ${port}`);
    if (!peer || !known || retired || !wellFormed(packet)) {
      this.stats.dropped++;
      return;
    }
    if (port !== peer.port || address !== peer.address) {
      // Latch once, to where the phone really sends from; afterwards other sources are strangers.
      if (this.#latched) {
        this.stats.dropped++;
        return;
      }
      this.#peer = { address, port };
    }
    this.#latched = true;
    // RTCP on the same port (rtcp-mux) or stray packets: payload types 72–76 are RTCP.
    const pt = packet[1]! & 0x7f;
    if (pt >= 72 && pt <= 76) return;
    this.stats.received++;
    this.stats.lastReceivedAt = Date.now();
    this.#onPacket?.(packet);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}
