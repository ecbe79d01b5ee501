import { createSocket, type Socket } from "node:dgram";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { ToneSource } from "@sori/werift-calls";

// The called end of a gateway's INVITE written by hand (a trunk or a phone network's switch): its
// answers and its RTP, so a test decides what each says and plays.

/** A header's value in a SIP message (the first, trimmed; "" if none). */
export const sipHeader = (text: string, name: string): string =>
  new RegExp(`^${name}: (.*)$`, "mi").exec(text)?.[1]?.trim() ?? "";

/**
 * The called end's SDP: `payload` (PCMU unless said) and telephone-event, RTP at `port`, sendrecv
 * unless `direction` says otherwise, o= version `version` (1).
 */
export function answerSdp(
  port: number,
  o: { payload?: number; direction?: string; version?: number } = {},
): string {
  const payload = o.payload ?? 0;
  const name = payload === 8 ? "PCMA" : "PCMU";
  return [
    "v=0",
    `o=trunk 5 ${o.version ?? 1} IN IP4 127.0.0.1`,
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${port} RTP/AVP ${payload} 101`,
    `a=rtpmap:${payload} ${name}/8000`,
    "a=rtpmap:101 telephone-event/8000",
    `a=${o.direction ?? "sendrecv"}`,
    "",
  ].join("\r\n");
}

/** A response to the gateway's INVITE, as the called end writes it. */
export function reply(
  invite: string,
  status: string,
  o: { toTag?: string; body?: string; port?: number } = {},
): string {
  const body = o.body ?? "";
  const to = sipHeader(invite, "To");
  const lines = [
    `SIP/2.0 ${status}`,
    `Via: ${sipHeader(invite, "Via")}`,
    `From: ${sipHeader(invite, "From")}`,
    `To: ${o.toTag ? `${to};tag=${o.toTag}` : to}`,
    `Call-ID: ${sipHeader(invite, "Call-ID")}`,
    `CSeq: ${sipHeader(invite, "CSeq")}`,
    ...(o.port ? [`Contact: <sip:ivr@127.0.0.1:${o.port}>`] : []),
    ...(body ? ["Content-Type: application/sdp"] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** An RTP socket of the called end: counts what the gateway sends it, and can stream a tone. */
export class ToneLeg {
  received = 0;
  readonly socket: Socket;
  #timer: ReturnType<typeof setInterval> | undefined;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("message", () => this.received++);
  }
  static async open(): Promise<ToneLeg> {
    const socket = createSocket("udp4");
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
    return new ToneLeg(socket);
  }
  get port(): number {
    return this.socket.address().port;
  }
  /** PCMU frames of `hz` every 20 ms to `port`, for at most 30 s. */
  play(hz: number, port: number): void {
    this.stop();
    const tone = new ToneSource(hz);
    const ssrc = Math.floor(Math.random() * 2 ** 32);
    let seq = 0;
    this.#timer = setInterval(() => {
      const packet = Buffer.alloc(12 + 160);
      packet[0] = 0x80;
      packet[1] = 0;
      packet.writeUInt16BE(seq & 0xffff, 2);
      packet.writeUInt32BE((seq * 160) >>> 0, 4);
      packet.writeUInt32BE(ssrc >>> 0, 8);
      Buffer.from(tone.nextFrame()).copy(packet, 12);
      this.socket.send(packet, port, "127.0.0.1");
      if (++seq > 1500) this.stop();
    }, 20);
  }
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
  close(): void {
    this.stop();
    this.socket.close();
  }
}

/**
 * A gateway on loopback for `client` through which `outbound` may call out, media ports from
 * `rtpMin`; its log lines go to `logs` (and to stderr with SORI_TEST_LOG).
 */
export function callOutGateway(
  client: SoriClient,
  o: { rtpMin: number; outbound: string[]; logs: string[] },
): Promise<SipGateway> {
  return startSipGateway({
    client,
    listen: { address: "127.0.0.1", port: 0 },
    mediaAddress: "127.0.0.1",
    rtpPorts: { min: o.rtpMin, max: o.rtpMin + 998 },
    loopback: true,
    outbound: o.outbound,
    log: createLogger("info", (l) => {
      o.logs.push(l);
      if (process.env.SORI_TEST_LOG) process.stderr.write(l);
    }),
  });
}
