import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { StreamFramer } from "../transport/stream-framer.ts";
import { findCredentials } from "./digest.ts";
import { formatBadRequest, type SipSource } from "./sip-format.ts";
import {
  headerValue,
  parseContact,
  parseSip,
  type SipMessage,
  type SipParseErrorCode,
  type SipParseFailure,
  type SipRequest,
  type SipResponse,
} from "./sip-message.ts";
import { ServerTransactions } from "./transactions.ts";

// RFC 4475's torture messages, byte for byte (fixtures/rfc4475/README.md), through the entry both
// transports use: a datagram's bytes go to parseSip as they are, a stream's through StreamFramer
// first. Each case says what the RFC asks of the parser and, where the RFC leaves a choice (or
// asks for a semantic refusal above the parser), which one the gateway makes and why.

const DIR = new URL("./fixtures/rfc4475/", import.meta.url);
const SOURCE: SipSource = { address: "192.0.2.77", port: 5099, transport: "UDP" };

function fixture(name: string): Buffer {
  return readFileSync(new URL(`${name}.dat`, DIR));
}

/** A value the RFC writes as <repeat count=N>…</repeat>. */
const rep = (s: string, n: number): string => s.repeat(n);

/** How the same bytes fare on a stream, where Content-Length alone frames (RFC 3261 §18.3). */
type OnStream =
  /** One message, parsed exactly as the datagram was. */
  | "same"
  /** Nothing yet: the framer waits for the rest of the body (or of the head). */
  | "waits"
  /** The stream cannot be framed: a 400 for its head, then the connection closes. */
  | "fatal"
  /** Two messages (a datagram's trailing bytes are a second message on a stream). */
  | "two";

type Valid = {
  section: string;
  parses: "request" | "response";
  /** The values the RFC points out. */
  check?: (m: SipMessage) => void;
  stream?: OnStream;
  /** Why a message the RFC calls invalid, or leaves to the element, is taken. */
  why?: string;
};

type Refused = {
  section: string;
  code: SipParseErrorCode;
  status: SipParseFailure["status"];
  reason: RegExp;
  /** Whether a refusal goes back: a request with a Via naming its sender and a CSeq. */
  answered: boolean;
  stream?: OnStream;
  /** Why a message the RFC calls valid, or leaves to the element, is refused. */
  why?: string;
};

const req = (m: SipMessage | SipParseFailure): SipRequest => {
  assert.equal(m.type, "request");
  return m as SipRequest;
};
const res = (m: SipMessage | SipParseFailure): SipResponse => {
  assert.equal(m.type, "response");
  return m as SipResponse;
};
const contacts = (m: SipMessage): ReturnType<typeof parseContact>[] =>
  m.headers.filter(([n]) => n === "Contact").map(([, v]) => parseContact(v));
const header = (m: SipMessage, name: string): string | undefined =>
  m.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

const SDP_150 = /^v=0\r\no=mhandley 29739 7272939 IN IP4 [\d.]+\r\n[\s\S]*a=rtpmap:31 LPC\r\n$/;

const CASES: Record<string, Valid | Refused> = {
  // §3.1.1: valid messages. A parser must accept every one.
  wsinv: {
    section: "3.1.1.1 A Short Tortuous INVITE",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.equal(r.method, "INVITE");
      assert.deepEqual(r.uri, {
        scheme: "sip",
        user: "vivekg",
        host: "chair-dnrc.example.com",
        port: undefined,
        params: { unknownparam: null },
      });
      // Folded lines, LWS around every separator, a case-mixed name, a header parameter with LWS.
      assert.equal(r.to.uri.user, "vivekg");
      assert.equal(r.to.displayName, undefined);
      assert.deepEqual(r.to.params, { tag: "1918181833n" });
      // `"J Rosenberg \\\""`: the quoted-pairs are an escaped backslash and an escaped quote.
      assert.equal(r.from.displayName, 'J Rosenberg \\"');
      assert.equal(r.from.uri.user, "jdrosen");
      assert.deepEqual(r.from.params, { tag: "98asjd8" });
      // Leading zeros.
      assert.equal(r.maxForwards, 68);
      assert.deepEqual(r.cseq, { seq: 9, method: "INVITE" });
      assert.equal(r.callId, "wsinv.ndaksdj@192.0.2.1");
      // Via, v and a comma-separated pair: three values, in order, whatever their spacing.
      assert.deepEqual(
        r.via.map((v) => [v.transport, v.host, v.port, v.branch]),
        [
          ["UDP", "192.0.2.2", undefined, "390skdjuw"],
          ["TCP", "spindle.example.com", undefined, "z9hG4bK9ikj8"],
          ["UDP", "192.168.255.111", undefined, "z9hG4bK30239"],
        ],
      );
      // An empty Subject (s :), unknown headers kept as values (one folded).
      assert.equal(header(r, "Subject"), "");
      assert.equal(header(r, "NewFangledHeader"), "newfangled value continued newfangled value");
      assert.equal(header(r, "UnknownHeaderWithUnusualValue"), ";;,,;;,;");
      assert.equal(header(r, "Route"), "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>");
      const [contact] = contacts(r);
      assert.equal(contact?.displayName, 'Quoted string ""');
      assert.deepEqual(contact?.params, { newparam: "newvalue", secondparam: null, q: "0.33" });
      assert.equal(r.bodyLength, 150);
      assert.match(r.body, SDP_150);
    },
  },
  intmeth: {
    section: "3.1.1.2 Wide Range of Valid Characters",
    parses: "request",
    check(m) {
      const r = req(m);
      // An unknown method: % is not an escape in a method (the gateway answers it 501 with Allow).
      assert.equal(r.method, "!interesting-Method0123456789_*+`.%indeed'~");
      assert.equal(r.cseq.method, r.method);
      assert.equal(r.cseq.seq, 139122385);
      assert.equal(r.maxForwards, 255);
      assert.equal(r.uri.host, "example.com");
      assert.equal(
        r.uri.user,
        "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
      );
      assert.equal(r.via[0]?.branch, "z9hG4bK-.!%66*_+`'~");
      // Quoted-pairs of BEL, NUL and DEL.
      assert.equal(r.to.displayName, "BEL:\x07 NUL:\x00 DEL:\x7f");
      assert.equal(r.to.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      assert.equal(r.from.displayName, "token1~` token2'+_ token3*%!.-");
      assert.equal(r.from.params.tag, "_token~1'+`*%!-.");
      assert.equal(r.from.params["fromparam''~+*_!.-%"], '"работающий"');
      // % " and unbalanced brackets mean nothing in a Call-ID.
      assert.equal(r.callId, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
      assert.equal(header(r, "extensionHeader-!.%*+_`'~"), "\ufeff大停電");
      assert.equal(r.bodyLength, 0);
    },
  },
  esc01: {
    section: "3.1.1.3 Valid Use of the % Escaping Mechanism",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.equal(r.uri.user, "sips:user@example.com");
      assert.equal(r.uri.host, "example.net");
      assert.equal(r.to.uri.user, "user");
      assert.equal(r.from.uri.user, "I have spaces");
      assert.equal(r.callId, "esc01.239409asdfakjkn23onasd0-3234");
      assert.equal(headerValue(r, "Content-Type"), "application/sdp");
      // Unescaped once: ;%6C%72 is lr, and "value%41" is not "valueA".
      const [contact] = contacts(r);
      assert.equal(contact?.uri.user, "caller");
      assert.deepEqual(contact?.uri.params, { lr: null, name: "value%41" });
      assert.equal(r.bodyLength, 150);
    },
  },
  escnull: {
    section: "3.1.1.4 Escaped Nulls in URIs",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.equal(r.method, "REGISTER");
      // Not cut short at the null.
      assert.equal(r.to.uri.user, "null-\0-null");
      assert.equal(r.from.uri.user, "null-\0-null");
      // Two distinct contacts.
      assert.deepEqual(
        contacts(r).map((c) => c?.uri.user),
        ["\0", "\0\0"],
      );
      assert.equal(headerValue(r, "Content-Length"), "0");
    },
  },
  esc02: {
    section: "3.1.1.5 Use of % When It Is Not an Escape",
    parses: "request",
    check(m) {
      const r = req(m);
      // Not REGISTER (the gateway answers it 501).
      assert.equal(r.method, "RE%47IST%45R");
      assert.equal(r.to.displayName, "%Z%45");
      assert.equal(r.from.displayName, "%Z%45");
      assert.equal(r.via[0]?.branch, "z9hG4bK209%fzsnel234");
      // Two Contacts; C%6Fntact is a header of its own.
      assert.deepEqual(
        contacts(r).map((c) => c?.uri.user),
        ["alias1", "alias3"],
      );
      assert.equal(header(r, "C%6Fntact"), "<sip:alias2@host2.example.com>");
    },
  },
  lwsdisp: {
    section: "3.1.1.6 Message with No LWS between Display Name and <",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.equal(r.from.displayName, "caller");
      assert.equal(r.from.uri.user, "caller");
      assert.equal(r.from.params.tag, "323");
    },
  },
  longreq: {
    section: "3.1.1.7 Long Values in Header Fields",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.equal(r.to.displayName, `I have a user name of ${rep("extreme", 10)} proportion`);
      assert.equal(r.to.uri.port, 6000);
      // Parameter names are compared without case (RFC 3261 §19.1.4): kept in lower case.
      assert.deepEqual(r.to.uri.params, {
        unknownparam1: `very${rep("long", 20)}value`,
        [`longparam${rep("name", 25)}`]: "shortvalue",
        [`very${rep("long", 25)}parameternamewithnovalue`]: null,
      });
      assert.equal(r.from.uri.user, rep("amazinglylongcallername", 5));
      assert.deepEqual(r.from.params, {
        tag: `12${rep("982", 50)}424`,
        [`unknownheaderparam${rep("name", 20)}`]: `unknowheaderparam${rep("value", 15)}`,
        [`unknownvalueless${rep("paramname", 10)}`]: null,
      });
      assert.equal(r.callId, `longreq.one${rep("really", 20)}longcallid`);
      assert.equal(
        header(r, `Unknown-${rep("Long", 20)}-Name`),
        `unknown-${rep("long", 20)}-value; unknown-${rep("long", 20)}-parameter-name = unknown-${rep("long", 20)}-parameter-value`,
      );
      // 34 Vias under seven spellings of the name.
      assert.equal(r.via.length, 34);
      r.via.slice(0, 33).forEach((v, i) => assert.equal(v.host, `sip${33 - i}.example.com`));
      assert.equal(r.via[33]?.host, "host.example.com");
      assert.equal(r.via[33]?.branch, `very${rep("long", 50)}branchvalue`);
      assert.equal(contacts(r)[0]?.uri.user, rep("amazinglylongcallername", 5));
      assert.equal(r.bodyLength, 150);
    },
  },
  dblreq: {
    section: "3.1.1.8 Extra Trailing Octets in a UDP Datagram",
    parses: "request",
    // On a stream the INVITE after the REGISTER is a message of its own.
    stream: "two",
    check(m) {
      const r = req(m);
      assert.equal(r.method, "REGISTER");
      assert.equal(r.callId, "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
      // Content-Length 0: the INVITE-looking octets after it are dropped, not a body.
      assert.equal(r.bodyLength, 0);
      assert.equal(r.body, "");
      assert.ok(!r.headers.some(([, v]) => v.includes("dblreq.0ha0isnda977644900765")));
    },
  },
  semiuri: {
    section: "3.1.1.9 Semicolon-Separated Parameters in URI User Part",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.equal(r.uri.user, "user;par=u@example.net");
      assert.equal(r.uri.host, "example.com");
      assert.deepEqual(r.uri.params, {});
      assert.equal(
        headerValue(r, "Accept"),
        "application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag",
      );
    },
  },
  transports: {
    section: "3.1.1.10 Varied and Unknown Transport Types",
    parses: "request",
    check(m) {
      const r = req(m);
      assert.deepEqual(
        r.via.map((v) => v.transport),
        ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"],
      );
      assert.equal(r.callId, "transports.kijh4akdnaqjkwendsasfdj");
    },
  },
  mpart01: {
    section: "3.1.1.11 Multipart MIME Message",
    parses: "request",
    check(m) {
      const r = req(m);
      // The gateway answers MESSAGE 501; the parser must still frame the binary part exactly.
      assert.equal(r.method, "MESSAGE");
      assert.equal(r.bodyLength, 553);
      assert.equal(headerValue(r, "Content-Type"), "multipart/mixed;boundary=7a9cbec02ceef655");
      assert.ok(r.body.startsWith("--7a9cbec02ceef655\r\nContent-Type: text/plain\r\n"));
      assert.ok(r.body.endsWith("\r\n--7a9cbec02ceef655--\r\n"), "the closing boundary ends the body");
      const bytes = fixture("mpart01");
      assert.equal(bytes.length, bytes.indexOf("\r\n\r\n") + 4 + 553, "and ends the datagram");
      assert.ok(bytes.subarray(bytes.length - 553).includes(0), "the binary part has NUL bytes");
    },
  },
  unreason: {
    section: "3.1.1.12 Unusual Reason Phrase",
    parses: "response",
    check(m) {
      const r = res(m);
      assert.equal(r.status, 200);
      // As the RFC writes it: <hex>D0BD…D0B5</hex>.
      const utf8 = Buffer.from(
        "D0BDD0BE20D181D182D0BE20D0B4D0B5D0B2D18FD0BDD0BED181D182D0BE20D0B4D0B5D0B2D18FD182D18C202D20D0BFD180D0BED181D182D0BED0B5",
        "hex",
      ).toString("utf8");
      assert.equal(r.reason, `= 2**3 * 5**2 ${utf8}`);
      assert.equal(r.bodyLength, 154);
    },
  },
  noreason: {
    section: "3.1.1.13 Empty Reason Phrase",
    parses: "response",
    check(m) {
      const r = res(m);
      assert.equal(r.status, 100);
      assert.equal(r.reason, "");
    },
  },

  // §3.1.2: invalid messages. Each is refused with what is wrong; a request with a usable Via
  // and a CSeq is answered.
  badinv01: {
    section: "3.1.2.1 Extraneous Header Field Separators",
    code: "header-value",
    status: 400,
    reason: /^malformed Via: an empty parameter$/,
    // The Via's parameters are broken, its sent-by is not: the 400 goes back, as the RFC asks.
    answered: true,
  },
  clerr: {
    section: "3.1.2.2 Content Length Larger Than Message",
    code: "content-length",
    status: 400,
    reason: /^body shorter than Content-Length$/,
    answered: true,
    // On a stream the rest may still come: the framer waits (the idle timer closes it).
    stream: "waits",
  },
  ncl: {
    section: "3.1.2.3 Negative Content-Length",
    code: "content-length",
    status: 400,
    reason: /^malformed Content-Length$/,
    answered: true,
    stream: "fatal",
  },
  scalar02: {
    section: "3.1.2.4 Request Scalar Fields with Overlarge Values",
    code: "out-of-range",
    status: 400,
    // The RFC: 400 because of the CSeq (Max-Forwards 300 and the expiries alone could be tolerated).
    reason: /^CSeq number out of range$/,
    answered: true,
  },
  scalarlg: {
    section: "3.1.2.5 Response Scalar Fields with Overlarge Values",
    code: "out-of-range",
    status: 400,
    reason: /^CSeq number out of range$/,
    // A response: discarded, never answered.
    answered: false,
  },
  quotbal: {
    section: "3.1.2.6 Unterminated Quoted String in Display Name",
    code: "header-value",
    status: 400,
    reason: /^malformed To: an unterminated quoted string$/,
    answered: true,
  },
  ltgtruri: {
    section: "3.1.2.7 <> Enclosing Request-URI",
    code: "start-line",
    status: 400,
    reason: /^a Request-URI in angle brackets$/,
    answered: true,
  },
  lwsruri: {
    section: "3.1.2.8 Malformed SIP Request-URI (embedded LWS)",
    code: "start-line",
    status: 400,
    reason: /^white space inside the Request-URI$/,
    answered: true,
  },
  lwsstart: {
    section: "3.1.2.9 Multiple SP Separating Request-Line Elements",
    code: "start-line",
    status: 400,
    reason: /^more than one SP between the start line's elements$/,
    answered: true,
    why: "the RFC allows rejecting it; RFC 3261's grammar has one SP, and a gateway is no place to guess",
  },
  trws: {
    section: "3.1.2.10 SP Characters at End of Request-Line",
    code: "start-line",
    status: 400,
    reason: /^white space at the end of the start line$/,
    answered: true,
    why: "the RFC allows rejecting it, as for lwsstart",
  },
  escruri: {
    section: "3.1.2.11 Escaped Headers in SIP Request-URI",
    code: "uri-headers",
    status: 400,
    reason: /^headers in the Request-URI$/,
    answered: true,
    why: "the RFC allows a 400; ignoring the headers would hide a peer's bug",
  },
  baddate: {
    section: "3.1.2.12 Invalid Time Zone in Date Header Field",
    parses: "request",
    why: "the RFC: an element should not reject it unless the Date matters to it; the gateway reads no Date",
    check(m) {
      assert.equal(headerValue(req(m), "Date"), "Fri, 01 Jan 2010 16:00:00 EST");
    },
  },
  regbadct: {
    section: "3.1.2.13 Failure to Enclose name-addr URI in <>",
    code: "uri-headers",
    status: 400,
    reason: /^a Contact URI with headers must be in angle brackets$/,
    answered: true,
  },
  badaspec: {
    section: "3.1.2.14 Spaces within addr-spec",
    code: "header-value",
    status: 400,
    reason: /^malformed To: white space inside the angle brackets$/,
    answered: true,
  },
  baddn: {
    section: "3.1.2.15 Non-token Characters in Display Name",
    code: "header-value",
    status: 400,
    reason: /^malformed From: an unquoted display name with characters outside token$/,
    answered: true,
    // The archive's file has no empty line after the head: on a stream that head never ends.
    stream: "waits",
  },
  badvers: {
    section: "3.1.2.16 Unknown Protocol Version",
    code: "version",
    status: 505,
    reason: /^unsupported version SIP\/7\.0$/,
    answered: true,
  },
  mismatch01: {
    section: "3.1.2.17 Start Line and CSeq Method Mismatch",
    code: "cseq-method",
    status: 400,
    reason: /^CSeq method does not match the request method$/,
    answered: true,
  },
  mismatch02: {
    section: "3.1.2.18 Unknown Method with CSeq Method Mismatch",
    code: "cseq-method",
    status: 400,
    reason: /^CSeq method does not match the request method$/,
    answered: true,
    why: "the parser says what is wrong; the gateway answers a method it does not know 501 (as RFC 4475 prefers)",
  },
  bigcode: {
    section: "3.1.2.19 Overlarge Response Code",
    code: "start-line",
    status: 400,
    reason: /^status code out of range$/,
    // A response: dropped.
    answered: false,
  },

  // §3.2 transaction layer.
  badbranch: {
    section: "3.2.1 Missing Transaction Identifier",
    parses: "request",
    why: "the RFC allows either a 400 or RFC 2543 matching: the transaction layer falls back (see below)",
    check(m) {
      assert.equal(req(m).via[0]?.branch, "z9hG4bK");
    },
  },

  // §3.3 application-layer semantics: syntactically fine (or nearly); what an element does with
  // them is above the parser. Where the gateway refuses one at its edge, the refusal is typed here.
  insuf: {
    section: "3.3.1 Missing Required Header Fields",
    code: "missing-header",
    status: 400,
    reason: /^missing From$/,
    // The RFC: ideally a 400. Via and CSeq are there, so one goes back (without From, To, Call-ID).
    answered: true,
  },
  unkscm: {
    section: "3.3.2 Request-URI with Unknown Scheme",
    code: "uri-scheme",
    status: 416,
    reason: /^Request-URI scheme nobodyKnowsThisScheme: the gateway takes sip: and sips:$/,
    answered: true,
    why: "well formed, and RFC 4475 asks for 416: refused at the edge, since nothing behind it routes a non-SIP URI",
  },
  novelsc: {
    section: "3.3.3 Request-URI with Known but Atypical Scheme",
    code: "uri-scheme",
    status: 416,
    reason: /^Request-URI scheme soap\.beep: /,
    answered: true,
    why: "the gateway will never take soap.beep: in a Request-URI, so 416 as the RFC says",
  },
  unksm2: {
    section: "3.3.4 Unknown URI Schemes in Header Fields",
    code: "uri-scheme",
    status: 400,
    reason: /^From is a http: URI, not sip: or sips:$/,
    answered: true,
    why: "a registrar refuses it with 400 (RFC 4475: To must be a SIP or SIPS URI); so does a UA that replies to From",
  },
  bext01: {
    section: "3.3.5 Proxy-Require and Require",
    parses: "request",
    check(m) {
      // The gateway answers 420 with Unsupported naming the Require tags (Proxy-Require is a proxy's).
      assert.equal(headerValue(m, "Require"), "nothingSupportsThis");
      assert.equal(
        m.headers.filter(([n]) => n === "Require").length,
        2,
        "a list header: one entry per value",
      );
      assert.equal(headerValue(m, "Proxy-Require"), "noProxiesSupportThis, norDoAnyProxiesSupportThis");
    },
  },
  invut: {
    section: "3.3.6 Unknown Content-Type",
    parses: "request",
    check(m) {
      assert.equal(headerValue(m, "Content-Type"), "application/unknownformat");
      assert.equal(m.bodyLength, 40);
    },
  },
  regaut01: {
    section: "3.3.7 Unknown Authorization Scheme",
    parses: "request",
    check(m) {
      assert.equal(headerValue(m, "Authorization"), "NoOneKnowsThisScheme opaque-data=here");
      // The registrar cannot check it: to it these are no credentials, and it challenges (401).
      assert.equal(findCredentials(m, "www", "sori"), undefined);
    },
  },
  multi01: {
    section: "3.3.8 Multiple Values in Single Value Required Fields",
    code: "duplicate-header",
    status: 400,
    reason: /^more than one CSeq$/,
    answered: true,
  },
  mcl01: {
    section: "3.3.9 Multiple Content-Length Values",
    code: "duplicate-header",
    status: 400,
    reason: /^more than one Content-Length$/,
    answered: true,
    stream: "fatal",
  },
  bcast: {
    section: "3.3.10 200 OK Response with Broadcast Via Header Field Value",
    parses: "response",
    check(m) {
      // A response matching no transaction of the gateway's is dropped: nothing goes to 255.255.255.255.
      assert.equal(res(m).via[1]?.host, "255.255.255.255");
    },
  },
  zeromf: {
    section: "3.3.11 Max-Forwards of Zero",
    parses: "request",
    check(m) {
      // An endpoint answers it (the gateway answers OPTIONS with Max-Forwards 0 like any other).
      assert.equal(req(m).maxForwards, 0);
    },
  },
  cparam01: {
    section: "3.3.12 REGISTER with a Contact Header Parameter",
    parses: "request",
    check(m) {
      // No <>: ;unknownparam belongs to the Contact, not the URI.
      const [c] = contacts(m);
      assert.deepEqual(c?.params, { unknownparam: null });
      assert.deepEqual(c?.uri.params, {});
      assert.equal(c?.uri.user, "+19725552222");
    },
  },
  cparam02: {
    section: "3.3.13 REGISTER with a url-parameter",
    parses: "request",
    check(m) {
      const [c] = contacts(m);
      assert.deepEqual(c?.params, {});
      assert.deepEqual(c?.uri.params, { unknownparam: null });
    },
  },
  regescrt: {
    section: "3.3.14 REGISTER with a URL Escaped Header",
    parses: "request",
    check(m) {
      // In <> a URI may carry headers (for a later request to it); the binding is the URI.
      const [c] = contacts(m);
      assert.equal(c?.uri.user, "user");
      assert.equal(c?.uri.host, "example.com");
    },
  },
  sdp01: {
    section: "3.3.15 Unacceptable Accept Offering",
    parses: "request",
    check(m) {
      assert.equal(headerValue(m, "Accept"), "text/nobodyKnowsThis");
      assert.equal(m.bodyLength, 150);
    },
  },

  // §3.4 backward compatibility.
  inv2543: {
    section: "3.4.1 INVITE with RFC 2543 Syntax",
    parses: "request",
    // A stream needs Content-Length (RFC 3261 §18.3): there this message cannot be framed.
    stream: "fatal",
    check(m) {
      const r = req(m);
      assert.equal(r.via[0]?.branch, undefined);
      assert.equal(r.from.params.tag, undefined);
      // No Max-Forwards: taken as the usual 70.
      assert.equal(r.maxForwards, 70);
      assert.equal(headerValue(r, "Content-Length"), undefined);
      // No <> around To: ;user=phone is the To's parameter; in From's <> it is the URI's.
      assert.deepEqual(r.to.params, { user: "phone" });
      assert.deepEqual(r.from.uri.params, { user: "phone" });
      // Over UDP without Content-Length the body is the rest of the datagram.
      assert.equal(
        r.body,
        "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0\r\n",
      );
    },
  },
};

const isValid = (c: Valid | Refused): c is Valid => "parses" in c;

describe("RFC 4475 torture messages", () => {
  test("every message of the RFC is a fixture, and every fixture has its case", () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith(".dat"))
      .map((f) => f.slice(0, -4))
      .sort();
    assert.deepEqual(files, Object.keys(CASES).sort());
    assert.equal(files.length, 49);
    // Byte-exact: the RFC's long message and the one with escaped nulls, to the byte.
    assert.equal(fixture("longreq").length, 3515);
    assert.equal(fixture("escnull").length, 359);
    assert.ok(fixture("escnull").includes("sip:null-%00-null@example.com"));
    assert.ok(!fixture("escnull").includes(0), "its nulls are escaped, not raw bytes");
    for (const name of files) {
      const bytes = fixture(name).toString("latin1");
      assert.ok(!/[^\r]\n/.test(bytes.slice(0, bytes.indexOf("\r\n\r\n") + 4)), `${name}: CRLF only`);
    }
  });

  for (const [name, c] of Object.entries(CASES)) {
    const verdict = isValid(c) ? `parses as a ${c.parses}` : `refused, ${c.status} (${c.code})`;
    test(`${name} (§${c.section}): ${verdict}`, (t) => {
      // Where the RFC leaves the choice, the report says which one and why.
      if (c.why) t.diagnostic(c.why);
      const m = parseSip(fixture(name));
      if (isValid(c)) {
        if (m.type === "invalid") assert.fail(`${name} refused: ${m.code}, ${m.reason}`);
        assert.equal(m.type, c.parses);
        c.check?.(m);
      } else {
        assert.equal(m.type, "invalid", `${name} was taken`);
        if (m.type !== "invalid") return;
        assert.equal(m.code, c.code, m.reason);
        assert.equal(m.status, c.status);
        assert.match(m.reason, c.reason);
        const answer = formatBadRequest(m, SOURCE);
        if (!c.answered) {
          assert.equal(answer, undefined, "nothing is sent");
          return;
        }
        assert.ok(answer, "a refusal goes back");
        const phrase = { 400: "Bad Request", 416: "Unsupported URI Scheme", 505: "Version Not Supported" };
        // The fault is named in the status line (phones log that) and in a Warning; the echoed
        // headers are the request's own, one of each.
        const statusLine = `SIP/2.0 ${c.status} ${phrase[c.status]} (${m.reason})\r\n`;
        assert.ok(answer.startsWith(statusLine), answer.split("\r\n")[0]);
        assert.ok(answer.includes(`\r\nWarning: 399 sori "${m.reason}"\r\n`), answer);
        assert.equal(answer.split("\r\n").filter((l) => l.startsWith("CSeq:")).length, 1);
        assert.match(answer, /^Via: .*;received=192\.0\.2\.77/m);
      }
      streamed(name, c.stream ?? "same", m);
    });
  }

  test("a request without a Via naming its sender gets no answer: insuf without its Via, badinv01 with only separators left", () => {
    const insuf = fixture("insuf")
      .toString("latin1")
      .replace(/^Via: .*\r\n/m, "");
    const badinv01 = fixture("badinv01").toString("latin1").replace("SIP/2.0/UDP 192.0.2.15;;,;,,", ";;,;,,");
    const [noVia, noSentBy] = [insuf, badinv01].map((m) => parseSip(Buffer.from(m, "latin1")));
    assert.ok(noVia?.type === "invalid" && noSentBy?.type === "invalid");
    assert.equal(noVia.reason, "missing Via");
    assert.match(noSentBy.reason, /^malformed Via/);
    assert.equal(formatBadRequest(noVia, SOURCE), undefined);
    assert.equal(formatBadRequest(noSentBy, SOURCE), undefined);
  });

  test("a bare z9hG4bK branch (badbranch) is matched RFC 2543-style: a new request is not a retransmission", () => {
    const server = new ServerTransactions({ send: () => undefined, setTimer: () => () => undefined });
    const first = req(parseSip(fixture("badbranch")));
    const next = req(
      parseSip(Buffer.from(fixture("badbranch").toString("latin1").replace("CSeq: 8", "CSeq: 9"), "latin1")),
    );
    const a = server.receive(first, SOURCE);
    assert.equal(a.kind, "new");
    if (a.kind === "new") a.tx.respond(200);
    assert.equal(server.receive(next, SOURCE).kind, "new");
    assert.equal(server.receive(first, SOURCE).kind, "absorbed", "the same request again still is one");
  });

  test("nothing throws: every fixture cut short anywhere, through either entry", () => {
    for (const name of Object.keys(CASES)) {
      const bytes = fixture(name);
      for (let cut = 0; cut <= bytes.length; cut += 11) {
        const part = bytes.subarray(0, cut);
        assert.doesNotThrow(() => parseSip(part), `${name} cut at ${cut}`);
        const framer = new StreamFramer();
        for (const e of framer.push(Buffer.from(part)))
          if (e.kind === "message") assert.doesNotThrow(() => parseSip(e.bytes), `${name} framed at ${cut}`);
      }
    }
  });
});

/** The same bytes on a stream: framed as the RFC's notes say, and parsed as the datagram was. */
function streamed(name: string, expected: OnStream, datagram: SipMessage | SipParseFailure): void {
  const events = new StreamFramer().push(fixture(name));
  const messages = events.flatMap((e) => (e.kind === "message" ? [e.bytes] : []));
  switch (expected) {
    case "waits":
      assert.deepEqual(events, [], `${name}: the framer waits for more`);
      return;
    case "fatal":
      assert.deepEqual(
        events.map((e) => e.kind),
        ["fatal"],
        `${name}: the stream cannot be framed`,
      );
      return;
    case "two":
      assert.equal(messages.length, 2, `${name}: two messages on a stream`);
      assert.equal(req(parseSip(messages[1]!)).method, "INVITE");
      return;
    case "same": {
      assert.equal(messages.length, 1, `${name}: one message on a stream`);
      const framed = parseSip(messages[0]!);
      assert.equal(framed.type, datagram.type);
      if (framed.type === "invalid" && datagram.type === "invalid") assert.equal(framed.code, datagram.code);
      else assert.deepEqual(framed, datagram);
    }
  }
}
