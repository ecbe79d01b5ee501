import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBadRequest } from "./sip-format.ts";
import { parseSip, splitList } from "./sip-message.ts";

const SOURCE = { address: "192.0.2.9", port: 5070, transport: "UDP" as const };

// RFC 4475 §3.1.1.1 ("wsinv"), abridged: folding, odd spacing and case, compact forms, leading zeros.
const TORTUOUS = [
  "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
  "TO :",
  " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
  'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
  "  ;",
  "  tag = 98asjd8",
  "MaX-fOrWaRdS: 0068",
  "Call-ID: wsinv.ndaksdj@192.0.2.1",
  "Content-Length   : 4",
  "cseq: 0009",
  "  INVITE",
  "Via  : SIP  /   2.0",
  " /UDP",
  "    192.0.2.2;rport;branch=390skdjuw",
  "s :",
  "NewFangledHeader:   newfangled value",
  " continued newfangled value",
  "UnknownHeaderWithUnusualValue: ;;,,;;,;",
  "Content-Type: application/sdp",
  "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
  "  branch  =   z9hG4bK9ikj8  ,",
  " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
  " z9hG4bK30239",
  'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
  "      newvalue ;",
  "  secondparam ; q = 0.33",
  "",
  "v=0\r\n",
].join("\r\n");

test("parses RFC 4475's tortuous INVITE: folded lines, compact names, all three Vias in order", () => {
  const m = parseSip(TORTUOUS);
  assert.equal(m.type, "request", m.type === "invalid" ? m.reason : "");
  if (m.type !== "request") return;
  assert.equal(m.method, "INVITE");
  assert.equal(m.uri.user, "vivekg");
  assert.equal(m.maxForwards, 68);
  assert.deepEqual(m.cseq, { seq: 9, method: "INVITE" });
  assert.equal(m.to.params.tag, "1918181833n");
  assert.equal(m.from.params.tag, "98asjd8");
  assert.deepEqual(
    m.via.map((v) => [v.transport, v.host, v.branch]),
    [
      ["UDP", "192.0.2.2", "390skdjuw"],
      ["TCP", "spindle.example.com", "z9hG4bK9ikj8"],
      ["UDP", "192.168.255.111", "z9hG4bK30239"],
    ],
  );
  assert.equal(m.via[0]?.rport, true);
  assert.equal(m.body, "v=0\r");
});

test("refuses what RFC 3261 forbids, each with a reason, and a 400 echoes the request's headers", () => {
  const base = (over: Record<string, string | undefined>): string => {
    const h: Record<string, string | undefined> = {
      Via: "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKa1",
      From: "<sip:a@example.com>;tag=1",
      To: "<sip:b@example.com>",
      "Call-ID": "c1",
      CSeq: "1 OPTIONS",
      "Max-Forwards": "70",
      ...over,
    };
    const lines = Object.entries(h)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${v}`);
    return `OPTIONS sip:b@example.com SIP/2.0\r\n${lines.join("\r\n")}\r\nContent-Length: 0\r\n\r\n`;
  };
  const cases: [Record<string, string | undefined>, RegExp][] = [
    [{ CSeq: "1 INVITE" }, /CSeq method does not match/],
    [{ CSeq: "99999999999 OPTIONS" }, /CSeq/],
    [{ "Call-ID": undefined }, /missing Call-ID/],
    [{ Via: "garbage" }, /malformed Via/],
    [{ From: "<sip:a@example.com>;tag=1, <sip:c@example.com>" }, /From/],
    [{ "Max-Forwards": "seventy" }, /Max-Forwards/],
  ];
  for (const [over, reason] of cases) {
    const m = parseSip(base(over));
    assert.equal(m.type, "invalid", JSON.stringify(over));
    if (m.type !== "invalid") continue;
    assert.match(m.reason, reason);
    const answer = formatBadRequest(m, SOURCE);
    if (over.Via === "garbage") continue;
    assert.match(
      answer ?? "",
      /^SIP\/2.0 400 Bad Request \([^\r]+\)\r\nVia: SIP\/2.0\/UDP 192.0.2.9:5070;branch=z9hG4bKa1/,
    );
  }
  // The fault is in the status line too, with only what a Reason-Phrase may hold (no quotes, no <>).
  const odd = parseSip(
    'OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKa2\r\nCSeq: 1 OPTIONS\r\n<odd "line>\r\n\r\n',
  );
  assert.ok(odd.type === "invalid");
  assert.equal(odd.code, "framing");
  assert.match(
    formatBadRequest(odd, SOURCE) ?? "",
    /^SIP\/2.0 400 Bad Request \(malformed header line odd line\)\r\n[\s\S]*Warning: 399 sori "malformed header line <odd line>"/,
  );
  assert.equal(parseSip("SIP/2.0 99 Odd\r\n\r\n").type, "invalid");
  assert.equal(parseSip("INVITE sip:x@y SIP/3.0\r\n\r\n").type, "invalid");
  assert.equal(parseSip("").type, "invalid");
  const short = parseSip(base({}).replace("Content-Length: 0", "Content-Length: 50"));
  assert.equal(short.type, "invalid");
});

test("splits lists only at top-level commas", () => {
  assert.deepEqual(splitList('"a, b" <sip:x@y;p=1,2>, <sip:z@w>'), ['"a, b" <sip:x@y;p=1,2>', "<sip:z@w>"]);
});
