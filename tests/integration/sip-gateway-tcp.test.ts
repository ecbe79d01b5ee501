import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, it } from "node:test";
import type { PhoneLineSettings, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { type CliServer, soriBackground, soriRunner, startCliServer } from "../cli-runner.ts";
import { directChatSeenBy, newUser, startTestServer, type TestServer } from "../helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { decodePcmu, readWav, toneShare } from "../tone-detect.ts";
import { nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";
import { portBase } from "../port-base.ts";

const BOB_TONE_HZ = 440;
const PHONE_TONE_HZ = 1000;
/** Ports of this file's phones and gateway: apart from the other SIP suites' ranges. */
const BASE = portBase("sip-gateway-tcp");
/** baresip takes its SIP port for UDP and TCP, and the next one for TLS. */
const CALLER_PORT = BASE;
const LINE_PORT = BASE + 3;
/** Where nothing listens (a phone that is gone). */
const CLOSED_PORT = BASE + 7;
/** The gateway: UDP and TCP on one port number, as a real deployment does. */
const GATEWAY_PORT = BASE + 6;

/** A SIP client on one stream: writes messages, reads what comes back, bounded in time. */
class StreamClient {
  text = "";
  closed = false;
  readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.text += d;
    });
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => undefined);
  }

  static tcp(port: number): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const s = netConnect(port, "127.0.0.1", () => resolve(new StreamClient(s)));
      s.once("error", reject);
    });
  }

  static tls(port: number): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      // The test's certificate is self-signed: this client checks the wire, not the PKI.
      const s = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () =>
        resolve(new StreamClient(s)),
      );
      s.once("error", reject);
    });
  }

  /** Waits (bounded) until what arrived matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.text);
      if (m) return m;
      if (Date.now() > deadline)
        throw new Error(`no ${pattern} on the stream (got ${this.text.slice(0, 300)})`);
      await sleep(20);
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("the gateway kept the connection open");
      await sleep(20);
    }
  }
}

/** A request over a stream (Via says which); Content-Length as a stream needs it, unless `noLength`. */
function streamRequest(o: {
  transport: "TCP" | "TLS";
  method: string;
  uri: string;
  branch: string;
  body?: string;
  noLength?: boolean;
}): string {
  const body = o.body ?? "";
  const lines = [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/${o.transport} 127.0.0.1:5999;branch=z9hG4bK${o.branch};rport`,
    "Max-Forwards: 70",
    `From: <sip:raw@127.0.0.1>;tag=${o.branch}`,
    `To: <${o.uri}>`,
    `Call-ID: ${o.branch}@raw`,
    `CSeq: 1 ${o.method}`,
    ...(body ? ["Content-Type: application/sdp"] : []),
    ...(o.noLength ? [] : [`Content-Length: ${Buffer.byteLength(body)}`]),
  ];
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

const SDP =
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

describe("SIP gateway over TCP and TLS (baresip over TCP, raw TLS clients)", () => {
  let t: TestServer;
  let gw: SoriClient;
  let alice: SoriClient;
  let bob: SoriClient;
  let gateway: SipGateway | undefined;
  const phones: SipPhone[] = [];
  let line: PhoneLineSettings;
  const dir = mkdtempSync(join(tmpdir(), "sori-sip-tcp-"));
  const heard: Buffer[] = [];

  before(async () => {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-subj", "/CN=127.0.0.1", "-days", "1"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ],
      { stdio: "ignore", timeout: 10_000 },
    );
    t = await startTestServer(["--gateways", "tcp_gw"]);
    gw = await newUser(t.url, "tcp_gw");
    alice = await newUser(t.url, "tcp_alice");
    bob = await newUser(t.url, "tcp_bob");
    alice.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    const { platform } = weriftPlatform({
      loopback: true,
      toneHz: BOB_TONE_HZ,
      onAudio: (p) => heard.push(p),
    });
    bob.calls.configure({ platform, ringTimeoutMs: 15_000, useServerTurn: false });
    gateway = await startSipGateway({
      client: gw,
      listen: [
        { transport: "udp", address: "127.0.0.1", port: GATEWAY_PORT },
        { transport: "tcp", address: "127.0.0.1", port: GATEWAY_PORT },
        { transport: "tls", address: "127.0.0.1", port: 0 },
      ],
      tls: {
        cert: readFileSync(join(dir, "cert.pem"), "utf8"),
        key: readFileSync(join(dir, "key.pem"), "utf8"),
      },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 49_000, max: 49_998 },
      loopback: true,
      linesFile: join(dir, "sip-lines.json"),
      // Debian's baresip 1.0 (libre 1.1) refuses a 401 that offers SHA-256 at all.
      digestAlgorithms: ["MD5"],
      outbound: ["tcp_bob"],
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });
    await directChatSeenBy(bob, "tcp_alice", alice);
  });
  after(async () => {
    for (const p of phones) await p.stop();
    await gateway?.stop();
    await alice?.close();
    await bob?.close();
    await gw?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("binds each transport and says where", () => {
    assert.equal(gateway!.port, GATEWAY_PORT);
    assert.equal(gateway!.ports.udp, GATEWAY_PORT);
    assert.equal(gateway!.ports.tcp, GATEWAY_PORT);
    assert.ok((gateway!.ports.tls ?? 0) > 0);
  });

  it("over TLS: OPTIONS gets 200 and an INVITE for nobody 404, on the connection they came on; a CRLF ping gets a pong", async () => {
    const c = await StreamClient.tls(gateway!.ports.tls!);
    try {
      c.socket.write(
        streamRequest({
          transport: "TLS",
          method: "OPTIONS",
          uri: `sip:127.0.0.1:${gateway!.ports.tls}`,
          branch: "tls1",
        }),
      );
      await c.waitFor(/^SIP\/2.0 200 OK\r\nVia: SIP\/2.0\/TLS 127.0.0.1:5999;branch=z9hG4bKtls1;rport=\d+/);
      c.text = "";
      c.socket.write("\r\n\r\n");
      await c.waitFor(/^\r\n$/);
      c.text = "";
      c.socket.write(
        streamRequest({
          transport: "TLS",
          method: "INVITE",
          uri: `sip:nobody_here@127.0.0.1:${gateway!.ports.tls}`,
          branch: "tls2",
          body: SDP,
        }),
      );
      await c.waitFor(/SIP\/2.0 404 Not Found\r\n[\s\S]*CSeq: 1 INVITE/);
      assert.match(c.text, /^SIP\/2.0 100 Trying/);
      // Once each: nothing is retransmitted over a stream.
      await sleep(1200);
      assert.equal(c.text.match(/SIP\/2.0 404/g)?.length, 1);
      assert.ok(gateway!.stats().connections >= 1);
    } finally {
      c.socket.destroy();
    }
  });

  it("over TCP: a message without Content-Length gets 400 with the reason, then the connection closes; so does an oversized one", async () => {
    const c = await StreamClient.tcp(GATEWAY_PORT);
    c.socket.write(
      streamRequest({
        transport: "TCP",
        method: "OPTIONS",
        uri: "sip:127.0.0.1",
        branch: "nolen",
        noLength: true,
      }),
    );
    await c.waitFor(
      /^SIP\/2.0 400 Bad Request \(missing Content-Length[^\r]*\)\r\n[\s\S]*Warning: 399 sori "missing Content-Length/,
    );
    await c.waitClosed();
    const big = await StreamClient.tcp(GATEWAY_PORT);
    big.socket.write(`OPTIONS sip:127.0.0.1 SIP/2.0\r\nX-Junk: ${"a".repeat(20_000)}`);
    await big.waitClosed();
    assert.equal(big.text, "");
  });

  it("a phone calls a Sori user over TCP: answered, each side hears the other, the user hangs up and the phone gets BYE over TCP", async () => {
    const phone = await SipPhone.start({
      sipPort: CALLER_PORT,
      controlPort: CALLER_PORT + 2,
      toneHz: PHONE_TONE_HZ,
      autoAnswer: true,
    });
    phones.push(phone);
    await waitFor("the raw clients' connections are gone", () => gateway!.stats().connections === 0);
    const ringing = nextIncoming(bob, 15_000);
    phone.dial(`sip:tcp_bob@127.0.0.1:${GATEWAY_PORT};transport=tcp`);
    const call = await ringing;
    assert.deepEqual(call.via, { network: "sip", uri: "sip:phone@127.0.0.1" });
    assert.ok(gateway!.stats().connections > 0, "the phone connected over TCP");
    await phone.waitEvent("CALL_RINGING");
    heard.length = 0;
    await call.accept();
    await phone.waitEvent("CALL_ESTABLISHED");
    await waitState(call, "connected");
    await waitFor("a second of the phone's audio", () => heard.length >= 60, 10_000);
    const share = toneShare(decodePcmu(heard.slice(10, 60)), 8000, PHONE_TONE_HZ);
    assert.ok(share > 0.5, `Bob hears the phone's ${PHONE_TONE_HZ} Hz (share ${share.toFixed(2)})`);
    await sleep(1000);
    call.hangup();
    const closed = await phone.waitEvent("CALL_CLOSED");
    assert.match(closed.param ?? "", /connection reset by peer/i);
    await waitFor("the gateway forgets the call", () => gateway!.stats().callsActive === 0);
    const wav = phone.decodedWav();
    assert.ok(wav, "the phone saved what it heard");
    const { sampleRate, samples } = readWav(wav);
    const middle = samples.subarray(Math.floor(sampleRate * 0.5), Math.floor(sampleRate * 1.5));
    const bobTone = toneShare(middle, sampleRate, BOB_TONE_HZ);
    assert.ok(bobTone > 0.5, `the phone hears Bob's ${BOB_TONE_HZ} Hz (share ${bobTone.toFixed(2)})`);
  });

  it("a call out to a SIP URI with ;transport=tcp opens a TCP connection to it; the phone answers over it", async () => {
    const phone = phones[0]!;
    phone.clearEvents();
    const before = gateway!.stats().connections;
    const uri = `sip:phone@127.0.0.1:${CALLER_PORT};transport=tcp`;
    const call = await bob.calls.start("tcp_gw", { via: { network: "sip", uri } });
    await waitState(call, "connected", 15_000);
    assert.equal(gateway!.stats().connections, before + 1, "one new connection, the gateway's own");
    assert.ok(phone.events.some((e) => e.type === "CALL_REMOTE_SDP" && e.param === "offer"));
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    await waitFor("the gateway forgets the call", () => gateway!.stats().callsActive === 0);
  });

  it("a phone calls a Sori user over TLS (sip:…;transport=tls): answered and hung up", async () => {
    // Debian's baresip 1.0 checks no server certificate (it connects without any CA file), so the
    // test's self-signed one does. The caller from above, now dialling the TLS port.
    const phone = phones[0]!;
    phone.clearEvents();
    const before = gateway!.stats().connections;
    const ringing = nextIncoming(bob, 15_000);
    phone.dial(`sip:tcp_bob@127.0.0.1:${gateway!.ports.tls};transport=tls`);
    const call = await ringing;
    assert.equal(gateway!.stats().connections, before + 1, "the phone's TLS connection");
    await call.accept();
    await phone.waitEvent("CALL_ESTABLISHED");
    await waitState(call, "connected");
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    await waitFor("the gateway forgets the call", () => gateway!.stats().callsActive === 0);
  });

  it("a call out to a TCP address where nothing listens fails at once (a transport error), not after timer B", async () => {
    const startedAt = Date.now();
    const uri = `sip:gone@127.0.0.1:${CLOSED_PORT};transport=tcp`;
    const call = await bob.calls.start("tcp_gw", { via: { network: "sip", uri } });
    await waitState(call, "ended", 10_000);
    assert.equal(call.endReason, "unreachable");
    assert.ok(Date.now() - startedAt < 10_000);
    await waitFor("the gateway forgets the call", () => gateway!.stats().callsActive === 0);
  });

  it("a phone line registered over TCP is rung over that connection when someone calls its owner", async () => {
    line = await alice.phoneLines.add({ gateway: "tcp_gw", name: "desk" });
    assert.equal(line.aor, `sip:tcp_alice@127.0.0.1:${GATEWAY_PORT}`);
    const before = gateway!.stats().connections;
    const phone = await SipPhone.start({
      sipPort: LINE_PORT,
      controlPort: LINE_PORT + 2,
      toneHz: PHONE_TONE_HZ,
      autoAnswer: true,
      line,
      transport: "tcp",
    });
    phones.push(phone);
    await waitFor("the phone registers", () => gateway!.stats().registrations === 1, 10_000);
    assert.ok(gateway!.stats().connections > before, "it registered over TCP");
    const connections = gateway!.stats().connections;
    const ringsAlice = nextIncoming(alice, 15_000);
    heard.length = 0;
    const call = await bob.calls.start("tcp_alice");
    const onAlice = await ringsAlice;
    await waitState(call, "connected", 15_000);
    assert.equal(call.via?.name, "desk");
    await waitState(onAlice, "ended");
    assert.equal(onAlice.endReason, "answered-elsewhere");
    // Rung over the REGISTER's connection: the gateway opened none of its own to the phone.
    assert.equal(gateway!.stats().connections, connections);
    await waitFor("a second of the phone's audio", () => heard.length >= 60, 10_000);
    const share = toneShare(decodePcmu(heard.slice(10, 60)), 8000, PHONE_TONE_HZ);
    assert.ok(share > 0.5, `Bob hears the phone's ${PHONE_TONE_HZ} Hz (share ${share.toFixed(2)})`);
    call.hangup();
    await phone.waitEvent("CALL_CLOSED");
    await waitFor("the gateway forgets the call", () => gateway!.stats().callsActive === 0);
  });
});

describe("sori sip-gateway --listen udp:…,tcp:…,tls:… with --sip-tls-cert and --sip-tls-key", () => {
  const PASSWORD = "sip tcp cli password";
  const sori = soriRunner(PASSWORD, 60_000);
  const dir = mkdtempSync(join(tmpdir(), "sori-sip-tcp-cli-"));
  const profile = ["--profile", join(dir, "gwtls")];
  let server: CliServer;

  before(async () => {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-subj", "/CN=127.0.0.1", "-days", "1"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ],
      { stdio: "ignore", timeout: 10_000 },
    );
    server = await startCliServer(join(dir, "data"), ["--gateways", "gwtls"]);
    const r = await sori(["register", "gwtls", "--server", server.url, "--no-passphrase", ...profile]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a tls listener without its files, with files that do not load, or two of one transport: usage errors", async () => {
    const missing = await sori(["sip-gateway", "--listen", "udp:127.0.0.1:0,tls:127.0.0.1:0", ...profile]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs --sip-tls-cert <file> and --sip-tls-key <file>/);
    const unreadable = await sori([
      ...["sip-gateway", "--listen", "tls:127.0.0.1:0"],
      ...["--sip-tls-cert", join(dir, "nothing.pem"), "--sip-tls-key", join(dir, "key.pem"), ...profile],
    ]);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /cannot read the SIP TLS certificate .*nothing\.pem: ENOENT/);
    const swapped = await sori([
      ...["sip-gateway", "--listen", "tls:127.0.0.1:0"],
      ...["--sip-tls-cert", join(dir, "key.pem"), "--sip-tls-key", join(dir, "cert.pem"), ...profile],
    ]);
    assert.equal(swapped.code, 2);
    assert.match(swapped.stderr, /do not load/);
    const twice = await sori(["sip-gateway", "--listen", "udp:127.0.0.1:0,udp:127.0.0.1:0", ...profile]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /one listener per transport/);
    const bad = await sori(["sip-gateway", "--listen", "sctp:127.0.0.1:5060", ...profile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--listen takes <udp\|tcp\|tls>:<host>:<port>/);
    const noCa = await sori(["sip-gateway", "--sip-tls-ca", join(dir, "nothing.pem"), ...profile]);
    assert.equal(noCa.code, 2);
    assert.match(noCa.stderr, /cannot read the SIP TLS CA file .*nothing\.pem: ENOENT/);
    const notCa = await sori(["sip-gateway", "--sip-tls-ca", join(dir, "key.pem"), ...profile]);
    assert.equal(notCa.code, 2);
    assert.match(notCa.stderr, /SIP TLS CA file .*key\.pem (does not load|holds no PEM certificate)/);
    const trunk = await sori([
      "sip-gateway",
      "--sip-trunk",
      "sip:trunk.example.net;transport=sctp",
      ...profile,
    ]);
    assert.equal(trunk.code, 2);
    assert.match(
      trunk.stderr,
      /--sip-trunk takes sip:<host>\[:<port>\]\[;transport=udp\|tcp\|tls\] or sips:/,
    );
  });

  it("listens on all three; the first line still ends with the UDP port, the second names TCP and TLS; OPTIONS over TLS is 200", async () => {
    const gateway = soriBackground(
      PASSWORD,
      [
        ...["sip-gateway", "--listen", "udp:127.0.0.1:0,tcp:127.0.0.1:0,tls:127.0.0.1:0"],
        ...["--sip-tls-cert", join(dir, "cert.pem"), "--sip-tls-key", join(dir, "key.pem")],
        ...["--rtp-ports", "49000-49998", "--loopback", ...profile],
      ],
      /SIP also on /,
      60_000,
    );
    try {
      const second = await gateway.ready;
      const run = await Promise.race([gateway.done, sleep(100).then(() => undefined)]);
      assert.equal(run, undefined, "still running");
      const tls = Number(/tls:127\.0\.0\.1:(\d+)$/.exec(second)?.[1]);
      assert.match(second, /^sori: SIP also on tcp:127\.0\.0\.1:\d+, tls:127\.0\.0\.1:\d+$/);
      const c = await StreamClient.tls(tls);
      c.socket.write(
        streamRequest({ transport: "TLS", method: "OPTIONS", uri: `sip:127.0.0.1:${tls}`, branch: "cli" }),
      );
      await c.waitFor(/^SIP\/2.0 200 OK/);
      c.socket.destroy();
      gateway.interrupt();
      const stopped = await gateway.done;
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /^sori: SIP gateway for gwtls listening on udp:127\.0\.0\.1:\d+$/m);
      assert.match(/listening on udp:.*$/m.exec(stopped.stderr)?.[0] ?? "", /:(\d+)$/);
    } finally {
      gateway.interrupt();
      await gateway.done;
    }
  });
});
