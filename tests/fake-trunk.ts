import { createHash } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";

/** What the fake trunk saw of one call. */
export type TrunkCall = {
  requestUri: string;
  from: string;
  authorized: boolean;
  rtpReceived: number;
  byeReceived: boolean;
  /** Every INVITE's and ACK's CSeq, Call-ID and From tag, in order (RFC 3261 §22.2 checks). */
  requests: { cseq: string; callId: string; fromTag: string }[];
};

/**
 * A stand-in for a SIP trunk on 127.0.0.1, as providers run them: every INVITE is challenged (407,
 * MD5 with qop=auth), a right answer is taken (200 with PCMU, then 20 ms RTP packets until BYE), a
 * wrong one refused (403). Its digest check is written here independently of the gateway's.
 */
export class FakeTrunk {
  readonly calls: TrunkCall[] = [];
  readonly #sip: Socket;
  readonly #rtp: Socket;
  readonly #password: string;
  readonly #username: string;
  #timers = new Set<ReturnType<typeof setInterval>>();

  private constructor(sip: Socket, rtp: Socket, username: string, password: string) {
    this.#sip = sip;
    this.#rtp = rtp;
    this.#username = username;
    this.#password = password;
    sip.on("message", (m, r) => this.#onSip(m.toString(), r.address, r.port));
    rtp.on("message", () => {
      const call = this.calls.at(-1);
      if (call) call.rtpReceived++;
    });
  }

  static async start(username: string, password: string): Promise<FakeTrunk> {
    const sip = createSocket("udp4");
    const rtp = createSocket("udp4");
    await new Promise<void>((r) => sip.bind(0, "127.0.0.1", r));
    await new Promise<void>((r) => rtp.bind(0, "127.0.0.1", r));
    return new FakeTrunk(sip, rtp, username, password);
  }

  get port(): number {
    return this.#sip.address().port;
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#sip.close();
    this.#rtp.close();
  }

  #onSip(text: string, address: string, port: number): void {
    const header = (name: string): string =>
      new RegExp(`^${name}: (.*)$`, "mi").exec(text)?.[1]?.trim() ?? "";
    const [method, requestUri] = text.split(" ", 2);
    const reply = (status: string, extra: string[] = [], body = ""): void => {
      const to = header("To");
      const lines = [
        `SIP/2.0 ${status}`,
        `Via: ${header("Via")}`,
        `From: ${header("From")}`,
        `To: ${/;tag=/.test(to) ? to : `${to};tag=trunk1`}`,
        `Call-ID: ${header("Call-ID")}`,
        `CSeq: ${header("CSeq")}`,
        ...extra,
        `Content-Length: ${Buffer.byteLength(body)}`,
      ];
      this.#sip.send(`${lines.join("\r\n")}\r\n\r\n${body}`, port, address);
    };
    const fromTag = /;tag=([^;\s]+)/.exec(header("From"))?.[1] ?? "";
    const noted = { cseq: header("CSeq"), callId: header("Call-ID"), fromTag };
    if (method === "ACK") {
      this.calls.at(-1)?.requests.push(noted);
      return;
    }
    if (method === "BYE") {
      const call = this.calls.at(-1);
      if (call) call.byeReceived = true;
      for (const t of this.#timers) clearInterval(t);
      this.#timers.clear();
      return reply("200 OK");
    }
    if (method !== "INVITE") return reply("405 Method Not Allowed");
    const auth = header("Proxy-Authorization");
    if (!auth) {
      this.calls.push({
        requestUri: requestUri ?? "",
        from: header("From"),
        authorized: false,
        rtpReceived: 0,
        byeReceived: false,
        requests: [noted],
      });
      return reply("407 Proxy Authentication Required", [
        'Proxy-Authenticate: Digest realm="trunk.test", nonce="trunk-nonce-1", algorithm=MD5, qop="auth"',
      ]);
    }
    const p = (name: string): string => new RegExp(`${name}="?([^",]*)"?`).exec(auth)?.[1] ?? "";
    const md5 = (s: string): string => createHash("md5").update(s).digest("hex");
    const expected = md5(
      `${md5(`${this.#username}:trunk.test:${this.#password}`)}:trunk-nonce-1:${p("nc")}:${p("cnonce")}:auth:${md5(`INVITE:${p("uri")}`)}`,
    );
    this.calls.at(-1)?.requests.push(noted);
    // The digest covers the Request-URI: one computed for another would be a replay elsewhere.
    if (p("username") !== this.#username || p("response") !== expected || p("uri") !== requestUri)
      return reply("403 Forbidden");
    const call = this.calls.at(-1)!;
    call.authorized = true;
    const body = text.split("\r\n\r\n")[1] ?? "";
    const rtpPort = Number(/^m=audio (\d+)/m.exec(body)?.[1]);
    const rtpHost = /^c=IN IP4 (\S+)/m.exec(body)?.[1] ?? "127.0.0.1";
    const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${this.#rtp.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;
    reply("200 OK", [`Contact: <sip:trunk@127.0.0.1:${this.port}>`, "Content-Type: application/sdp"], sdp);
    let seq = 0;
    const timer = setInterval(() => {
      const packet = Buffer.alloc(12 + 160, 0xff);
      packet[0] = 0x80;
      packet[1] = 0;
      packet.writeUInt16BE(seq++ & 0xffff, 2);
      packet.writeUInt32BE((seq * 160) >>> 0, 4);
      packet.writeUInt32BE(0x1234abcd, 8);
      this.#rtp.send(packet, rtpPort, rtpHost);
      if (seq > 1500) clearInterval(timer);
    }, 20);
    this.#timers.add(timer);
  }
}
