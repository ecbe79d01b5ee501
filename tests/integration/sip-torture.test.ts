import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { PhoneLineSettings, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { weriftPlatform } from "@sori/werift-calls";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { directChatSeenBy, newUser, startTestServer, type TestServer } from "../helpers.ts";
import { challenges, digestCredentials, rawDatagramAnswers, rawExchange, sipRequest } from "../sip-raw.ts";
import { nextIncoming, sleep } from "./call-helpers.ts";

// RFC 4475's torture messages sent to a running gateway as a scanner or a broken phone would:
// every one over UDP, a few over TCP. The parser's verdicts are in
// apps/sip-gateway/src/sip/torture.test.ts; here is what goes back on the wire, and that the
// gateway still works afterwards.

const FIXTURES = join(import.meta.dirname, "../../apps/sip-gateway/src/sip/fixtures/rfc4475");
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, `${name}.dat`));

/** The gateway refuses with `status`, naming the fault in the status line and in a Warning. */
const refused = (status: string, reason: string, inStatusLine = true): RegExp => {
  const r = reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = inStatusLine ? `${status} \\(${r}\\)` : status;
  return new RegExp(`^SIP/2\\.0 ${line}\\r\\n[\\s\\S]*\\r\\nWarning: 399 sori "${r}"\\r\\n`);
};
const BAD = "400 Bad Request";

/**
 * What each message gets back over UDP: the gateway's answer, or nothing (a response, or a request
 * without a Via naming its sender). The gateway serves example.com (`domains`), so REGISTERs there
 * are its own (challenged, 401); INVITEs to users it does not have are 404 and to other domains 407
 * (calls out need a line's credentials); OPTIONS is 200; methods it lacks are 501.
 */
const OVER_UDP: Record<string, RegExp | undefined> = {
  // §3.1.1, valid: a sane answer for the method and user, never a 400.
  // Its To has a tag: an INVITE inside a dialog the gateway does not have (RFC 3261 §12.2.2).
  wsinv: /^SIP\/2\.0 481 Call\/Transaction Does Not Exist\r\n(Via: .*\r\n){3}/,
  intmeth: /^SIP\/2\.0 501 Not Implemented\r\n[\s\S]*Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER\r\n/,
  esc01: /^SIP\/2\.0 407 Proxy Authentication Required\r\n[\s\S]*Proxy-Authenticate: Digest /,
  escnull: /^SIP\/2\.0 401 Unauthorized\r\n[\s\S]*WWW-Authenticate: Digest /,
  esc02: /^SIP\/2\.0 501 Not Implemented\r\n[\s\S]*CSeq: 29344 RE%47IST%45R\r\n/,
  lwsdisp: /^SIP\/2\.0 200 OK\r\n/,
  longreq: /^SIP\/2\.0 404 Not Found\r\n(Via: .*\r\n){34}/,
  dblreq: /^SIP\/2\.0 401 [\s\S]*CSeq: 8 REGISTER\r\n/,
  semiuri: /^SIP\/2\.0 200 OK\r\n/,
  transports: /^SIP\/2\.0 200 OK\r\n(Via: .*\r\n){5}/,
  mpart01: /^SIP\/2\.0 501 Not Implemented\r\n/,
  unreason: undefined,
  noreason: undefined,
  // §3.1.2, invalid: 400 (or what RFC 3261 names for the fault) with the fault named.
  badinv01: refused(BAD, "malformed Via: an empty parameter"),
  clerr: refused(BAD, "body shorter than Content-Length"),
  ncl: refused(BAD, "malformed Content-Length"),
  scalar02: refused(BAD, "CSeq number out of range"),
  scalarlg: undefined,
  quotbal: refused(BAD, "malformed To: an unterminated quoted string"),
  ltgtruri: refused(BAD, "a Request-URI in angle brackets"),
  lwsruri: refused(BAD, "white space inside the Request-URI"),
  lwsstart: refused(BAD, "more than one SP between the start line's elements"),
  trws: refused(BAD, "white space at the end of the start line"),
  escruri: refused(BAD, "headers in the Request-URI"),
  // The Date is not the gateway's business (RFC 4475 asks not to reject it then): 404 for the user.
  baddate: /^SIP\/2\.0 404 /,
  regbadct: refused(BAD, "a Contact URI with headers must be in angle brackets"),
  badaspec: refused(BAD, "malformed To: white space inside the angle brackets"),
  baddn: refused(BAD, "malformed From: an unquoted display name with characters outside token"),
  badvers: refused("505 Version Not Supported", "unsupported version SIP/7.0"),
  mismatch01: refused(BAD, "CSeq method does not match the request method"),
  // RFC 4475 prefers 501 for an unknown method, even with the CSeq mismatch.
  // (The 501 is for the method, so its status line is the plain one; the Warning still names the fault.)
  mismatch02: refused("501 Not Implemented", "CSeq method does not match the request method", false),
  bigcode: undefined,
  // §3.2: RFC 2543 matching for the bare magic cookie.
  badbranch: /^SIP\/2\.0 200 OK\r\n/,
  // §3.3.
  insuf: refused(BAD, "missing From"),
  unkscm: refused(
    "416 Unsupported URI Scheme",
    "Request-URI scheme nobodyKnowsThisScheme: the gateway takes sip: and sips:",
  ),
  novelsc: refused(
    "416 Unsupported URI Scheme",
    "Request-URI scheme soap.beep: the gateway takes sip: and sips:",
  ),
  unksm2: refused(BAD, "From is a http: URI, not sip: or sips:"),
  bext01:
    /^SIP\/2\.0 420 Bad Extension\r\n[\s\S]*Unsupported: nothingSupportsThis, nothingSupportsThisEither\r\n/,
  invut: /^SIP\/2\.0 404 /,
  regaut01: /^SIP\/2\.0 401 Unauthorized\r\n[\s\S]*WWW-Authenticate: Digest /,
  multi01: refused(BAD, "more than one CSeq"),
  mcl01: refused(BAD, "more than one Content-Length"),
  bcast: undefined,
  zeromf: /^SIP\/2\.0 200 OK\r\n/,
  cparam01: /^SIP\/2\.0 401 /,
  cparam02: /^SIP\/2\.0 401 /,
  regescrt: /^SIP\/2\.0 401 /,
  sdp01: /^SIP\/2\.0 404 /,
  // §3.4: no branch, no From tag, no Content-Length: a request like any other.
  inv2543: /^SIP\/2\.0 404 /,
};

/**
 * Pairs of messages the RFC gives the same top Via branch, sent-by and method: RFC 3261 §17.2.3
 * makes the second a retransmission of the first, so sent together it is absorbed (its answer is
 * the first's, repeated to where that came from). Each twin is answered over TCP instead.
 */
const TWINS: Record<string, string> = { cparam02: "cparam01", regescrt: "escnull" };

/** §3.1.1's requests: valid, so never a 400. */
const VALID = [
  "wsinv",
  "intmeth",
  "esc01",
  "escnull",
  "esc02",
  "lwsdisp",
  "longreq",
  "dblreq",
  "semiuri",
  "transports",
  "mpart01",
];

/**
 * A message with `.tcp` after its Call-ID (the rest as the RFC has it). Without a magic cookie in
 * the top Via (wsinv, longreq) the transaction is known by Call-ID, CSeq, From tag and sent-by.
 */
function ownCallId(name: string): Buffer {
  const text = fixture(name).toString("latin1");
  return Buffer.from(text.replace(/^(Call-ID: \S+)\r$/m, "$1.tcp\r"), "latin1");
}

/** A SIP client on one TCP connection: writes bytes, reads answers, bounded in time. */
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

  static open(port: number): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const s = netConnect(port, "127.0.0.1", () => resolve(new StreamClient(s)));
      s.once("error", reject);
    });
  }

  /** The final answer (not 1xx) whose CSeq is `cseq`, waited for (bounded). */
  async answerTo(cseq: string, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.text
        .split(/(?=^SIP\/2\.0 \d{3} )/m)
        .find((m) => !/^SIP\/2\.0 1/.test(m) && m.includes(`\r\nCSeq: ${cseq}\r\n`));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no answer to ${cseq} (got ${this.text.slice(0, 300)})`);
      await sleep(20);
    }
  }

  async waitClosed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("the gateway kept the connection open");
      await sleep(20);
    }
  }
}

describe("SIP gateway: RFC 4475's torture messages on the wire", () => {
  let t: TestServer;
  let gw: SoriClient;
  let alice: SoriClient;
  let bob: SoriClient;
  let gateway: SipGateway | undefined;
  let line: PhoneLineSettings;
  const dir = mkdtempSync(join(tmpdir(), "sori-torture-"));
  const logs: string[] = [];

  before(async () => {
    t = await startTestServer(["--gateways", "torture_gw"]);
    gw = await newUser(t.url, "torture_gw");
    alice = await newUser(t.url, "torture_alice");
    bob = await newUser(t.url, "torture_bob");
    bob.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    gateway = await startSipGateway({
      client: gw,
      listen: [
        { transport: "udp", address: "127.0.0.1", port: 0 },
        { transport: "tcp", address: "127.0.0.1", port: 0 },
      ],
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 55_000, max: 55_998 },
      loopback: true,
      linesFile: join(dir, "sip-lines.json"),
      // The messages' own domain, so that their REGISTERs reach the registrar and its challenge.
      domains: ["example.com"],
      // A dozen INVITEs from one address in a second: more than a phone sends, not a flood.
      inviteBurst: 100,
      // clerr over TCP waits for a body that never comes: the idle timer ends it, here soon.
      connectionLimits: { idleMs: 1500 },
      // Everything the gateway logs, down to debug, is kept for the check at the end.
      log: createLogger("debug", (l) => {
        logs.push(l);
        if (process.env.SORI_TEST_LOG) process.stderr.write(l);
      }),
    });
    await directChatSeenBy(bob, "torture_alice", alice);
  });
  after(async () => {
    await gateway?.stop();
    await alice?.close();
    await bob?.close();
    await gw?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // First over TCP: a request's transaction over a stream ends with its answer, so these leave
  // nothing behind that the same bytes over UDP below could be taken for a retransmission of.
  it("over TCP: valid ones answered on the connection, a refusal keeps it open; a negative Content-Length or none at all is a 400 and the end of it; a body that never comes ends at the idle timer", async () => {
    const tcp = gateway!.ports.tcp!;
    const c = await StreamClient.open(tcp);
    try {
      c.socket.write(fixture("lwsdisp"));
      assert.match(await c.answerTo("60 OPTIONS"), /^SIP\/2\.0 200 OK\r\n/);
      // cparam02 and regescrt go over TCP alone: over UDP each is its twin's retransmission (below).
      c.socket.write(Buffer.concat([fixture("cparam02"), fixture("regescrt")]));
      assert.match(await c.answerTo("3 REGISTER"), /^SIP\/2\.0 401 /);
      assert.match(await c.answerTo("14398234 REGISTER"), /^SIP\/2\.0 401 /);
      // An INVITE's transaction outlives its answer (timer H): these two carry a Call-ID of their
      // own, or the UDP copies below would be taken for their retransmissions.
      c.socket.write(ownCallId("longreq"));
      assert.match(await c.answerTo("3882340 INVITE"), /^SIP\/2\.0 404 Not Found\r\n(Via: .*\r\n){34}/);
      c.socket.write(ownCallId("wsinv"));
      assert.match(await c.answerTo("9 INVITE"), /^SIP\/2\.0 481 /);
      // Framed fine, refused by the parser: the stream is still in step.
      c.socket.write(fixture("badinv01"));
      assert.match(await c.answerTo("8 INVITE"), refused(BAD, "malformed Via: an empty parameter"));
      // The binary part framed by its byte count; what follows is read as the next message.
      c.socket.write(Buffer.concat([fixture("mpart01"), fixture("semiuri")]));
      assert.match(await c.answerTo("1 MESSAGE"), /^SIP\/2\.0 501 /);
      assert.match(await c.answerTo("8 OPTIONS"), /^SIP\/2\.0 200 OK\r\n/);
      assert.equal(c.closed, false);
      // No telling where the next message would start: answered, then closed.
      c.socket.write(fixture("ncl"));
      assert.match(await c.answerTo("0 INVITE"), refused(BAD, "malformed Content-Length"));
      await c.waitClosed(5000);
    } finally {
      c.socket.destroy();
    }
    const old = await StreamClient.open(tcp);
    try {
      old.socket.write(fixture("inv2543"));
      assert.match(
        await old.answerTo("56 INVITE"),
        refused(BAD, "missing Content-Length (mandatory on a stream)"),
      );
      await old.waitClosed(5000);
    } finally {
      old.socket.destroy();
    }
    const waiting = await StreamClient.open(tcp);
    try {
      waiting.socket.write(fixture("clerr"));
      // RFC 4475: wait for the rest, and close if none comes.
      await waiting.waitClosed(6000);
      assert.equal(waiting.text, "", "nothing was answered");
    } finally {
      waiting.socket.destroy();
    }
  });

  it("over UDP: every message at once, each from its own port; the valid ones get their answer, the invalid ones theirs with the fault named, responses and requests without a usable Via nothing", async () => {
    const names = readdirSync(FIXTURES)
      .filter((f) => f.endsWith(".dat"))
      .map((f) => f.slice(0, -4))
      .sort();
    assert.deepEqual(names, Object.keys(OVER_UDP).sort());
    const before = gateway!.stats().parseErrors;
    // In parallel, each waiting the same bounded window: answers come in milliseconds on loopback.
    // The twins go a moment later, so that which one is first is not left to chance.
    const first = names.filter((n) => !(n in TWINS));
    const answers = new Map<string, Promise<string[]>>();
    for (const n of first) answers.set(n, rawDatagramAnswers(gateway!.ports.udp!, fixture(n), 3000));
    await sleep(300);
    for (const n of Object.keys(TWINS))
      answers.set(n, rawDatagramAnswers(gateway!.ports.udp!, fixture(n), 3000));
    const got = new Map<string, string[]>();
    for (const [n, p] of answers) got.set(n, await p);
    const problems: string[] = [];
    for (const name of names) {
      const back = got.get(name)!;
      const expected = name in TWINS ? undefined : OVER_UDP[name];
      // An INVITE's final answer is repeated until an ACK (none is sent here): the same text each time.
      if (expected === undefined) {
        if (back.length > 0) problems.push(`${name}: expected nothing, got ${back[0]!.split("\r\n")[0]}`);
      } else if (back.length !== 1) {
        problems.push(
          `${name}: expected one answer, got ${back.length}: ${back.map((g) => g.split("\r\n")[0]).join(" | ")}`,
        );
      } else if (!expected.test(back[0]!)) {
        problems.push(`${name}: ${expected} did not match:\n${back[0]!.slice(0, 400)}`);
      }
    }
    assert.deepEqual(problems, []);
    // Each twin's answer went to where its first copy came from: the same 401, not a second one.
    for (const [twin, original] of Object.entries(TWINS))
      assert.match(got.get(original)![0]!, OVER_UDP[twin]!, `${twin} absorbed into ${original}`);
    // Valid messages are never a 400; the refused ones were counted.
    for (const name of VALID) assert.doesNotMatch(got.get(name)![0]!, /^SIP\/2\.0 400/, name);
    // No RFC 4475 request lacks a Via naming its sender; two made from theirs do, and get nothing:
    // insuf without its Via, badinv01 with nothing left of its Via but the separators.
    const insuf = fixture("insuf").toString("latin1");
    const badinv01 = fixture("badinv01").toString("latin1");
    const viaLess = await Promise.all(
      [insuf.replace(/^Via: .*\r\n/m, ""), badinv01.replace("SIP/2.0/UDP 192.0.2.15;;,;,,", ";;,;,,")].map(
        (m) => rawDatagramAnswers(gateway!.ports.udp!, Buffer.from(m, "latin1"), 1500),
      ),
    );
    assert.deepEqual(viaLess, [[], []]);
    // Counted: each refusal, the two responses that could not be parsed (scalarlg, bigcode), and those two.
    const refusals = Object.values(OVER_UDP).filter((e) => e && /Warning: 399 sori/.test(e.source)).length;
    assert.equal(gateway!.stats().parseErrors - before, refusals + 4);
  });

  it("afterwards the gateway still answers OPTIONS, and a phone line registers and calls its owner's friend", async () => {
    const port = gateway!.ports.udp!;
    const [options] = await rawExchange(port, [
      sipRequest({
        method: "OPTIONS",
        uri: `sip:127.0.0.1:${port}`,
        from: "<sip:check@127.0.0.1>",
        to: `<sip:127.0.0.1:${port}>`,
        callId: "torture-after-options",
        cseq: 1,
      }),
    ]);
    assert.match(options!, /^SIP\/2\.0 200 OK\r\n[\s\S]*Allow: INVITE/);

    line = await alice.phoneLines.add({ gateway: "torture_gw", name: "desk" });
    const registrar = `sip:127.0.0.1:${port}`;
    const register = (cseq: number, auth?: [string, string]): string =>
      sipRequest({
        method: "REGISTER",
        uri: registrar,
        from: `<${line.aor}>`,
        to: `<${line.aor}>`,
        callId: "torture-after-register",
        cseq,
        headers: [
          ["Contact", "<sip:torture_alice@127.0.0.1:5999>"],
          ["Expires", "60"],
          ...(auth ? [auth] : []),
        ],
      });
    const [challenge] = await rawExchange(port, [register(1)]);
    const www = challenges(challenge!)[0]!;
    const answer = (method: string, uri: string, c: typeof www): string =>
      digestCredentials({
        algorithm: c.algorithm === "SHA-256" ? "SHA-256" : "MD5",
        realm: c.realm,
        nonce: c.nonce,
        method,
        uri,
        username: line.authUser,
        password: line.password,
      });
    const [registered] = await rawExchange(port, [
      register(2, ["Authorization", answer("REGISTER", registrar, www)]),
    ]);
    assert.match(
      registered!,
      /^SIP\/2\.0 200 OK\r\n[\s\S]*Contact: <sip:torture_alice@127\.0\.0\.1:5999>;expires=/,
    );
    assert.equal(gateway!.stats().registrations, 1);

    // The line calls Bob: challenged, then with credentials his device rings, showing Alice's phone.
    const bobUri = `sip:torture_bob@127.0.0.1:${port}`;
    const invite = (auth?: [string, string]): string =>
      sipRequest({
        method: "INVITE",
        uri: bobUri,
        from: `<${line.aor}>`,
        to: `<${bobUri}>`,
        callId: `torture-after-invite-${auth ? 2 : 1}`,
        cseq: 1,
        headers: auth ? [auth] : [],
        body: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
      });
    const [proxyChallenge] = await rawExchange(port, [invite()]);
    assert.match(proxyChallenge!, /^SIP\/2\.0 407 /);
    const ringing = nextIncoming(bob, 15_000);
    const final = rawExchange(port, [
      invite(["Proxy-Authorization", answer("INVITE", bobUri, challenges(proxyChallenge!)[0]!)]),
    ]);
    const call = await ringing;
    assert.deepEqual(call.lineOwner, { userId: alice.userId, username: "torture_alice" });
    call.decline();
    const [declined] = await final;
    assert.match(declined!, /^SIP\/2\.0 603 /);
  });

  it("the gateway's log has event names and addresses, never the messages: no header, Call-ID, credential or password", () => {
    assert.ok(logs.length > 0);
    const needles = [
      line.password,
      line.authUser,
      "Digest ",
      'response="',
      "NoOneKnowsThisScheme",
      "opaque-data",
      "Via:",
      "From:",
      "CSeq:",
      "WWW-Authenticate",
      "Proxy-Authorization",
      "v=0",
    ];
    // Every torture message's Call-ID (none of them became a call, so none is a call's id in a log).
    for (const name of Object.keys(OVER_UDP)) {
      const callId = /^(?:Call-ID|i)\s*:\s*(\S+)\r$/im.exec(fixture(name).toString("latin1"))?.[1];
      if (callId) needles.push(callId);
    }
    for (const l of logs) {
      const entry = JSON.parse(l) as { event?: unknown };
      assert.equal(typeof entry.event, "string", l);
      for (const needle of needles) assert.ok(!l.includes(needle), `${needle} is in the log: ${l}`);
    }
  });
});
