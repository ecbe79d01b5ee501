import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BoundedStreamParser,
  type RefusedStanza,
  refusalAnswer,
  type StreamInputError,
} from "./stanza-limits.ts";
import type { XmlElement } from "./xmpp-library.ts";

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' " +
  "xmlns='jabber:component:accept' id='abc&amp;1' from='sori.test'>";

type Seen = {
  start?: XmlElement;
  elements: string[];
  refused: RefusedStanza[];
  errors: StreamInputError[];
  ended: boolean;
};

/** Feeds `chunks` one write each and records every event. */
function feed(chunks: string[], maxStanzaBytes?: number): Seen {
  const p = new BoundedStreamParser(maxStanzaBytes === undefined ? {} : { maxStanzaBytes });
  const seen: Seen = { elements: [], refused: [], errors: [], ended: false };
  p.on("start", (el: XmlElement) => (seen.start = el));
  p.on("element", (el: XmlElement) => seen.elements.push(el.toString()));
  p.on("refused", (r: RefusedStanza) => seen.refused.push(r));
  p.on("error", (e: StreamInputError) => seen.errors.push(e));
  p.on("end", () => (seen.ended = true));
  for (const c of chunks) p.write(c);
  return seen;
}

/** Every way of cutting `text` in two, and cuts at every character. */
function cuttings(text: string): string[][] {
  const out: string[][] = [[text], [...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

const STANZAS = [
  `<message from='juliet@xmpp.test/b' to='alice@sori.test' id='m1' type='chat'><body>안녕 &lt;b&gt; &amp; "q" 🎉</body></message>`,
  `<iq type="get" id="i&quot;2" to="sori.test" from="xmpp.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
  `<message to='alice@sori.test' from='j@x.test/r' title='a > b / c'><body><![CDATA[<not a tag> ]] ]>]]></body><x xmlns='urn:unknown:ns'><y a="1"/></x></message>`,
  `<presence from='j@x.test/r' to='alice@sori.test'/>`,
];

describe("the component's bounded stream parser", () => {
  it("frames a stream into the same stanzas, however the input is cut", () => {
    const text = `${HEADER} \n${STANZAS.join(" ")}\t </stream:stream>`;
    const expected = [
      '<message from="juliet@xmpp.test/b" to="alice@sori.test" id="m1" type="chat"><body>안녕 &lt;b&gt; &amp; "q" 🎉</body></message>',
      '<iq type="get" id="i&quot;2" to="sori.test" from="xmpp.test"><ping xmlns="urn:xmpp:ping"/></iq>',
      '<message to="alice@sori.test" from="j@x.test/r" title="a &gt; b / c"><body>&lt;not a tag&gt; ]] ]&gt;</body><x xmlns="urn:unknown:ns"><y a="1"/></x></message>',
      '<presence from="j@x.test/r" to="alice@sori.test"/>',
    ];
    for (const chunks of cuttings(text)) {
      const seen = feed(chunks);
      assert.deepEqual(seen.errors, [], chunks.join("|"));
      assert.deepEqual(seen.refused, []);
      assert.deepEqual(seen.elements, expected, chunks.join("|"));
      assert.equal(seen.start?.attrs.id, "abc&1");
      assert.equal(seen.ended, true);
    }
  });

  it("gives each stanza the stream's root as parent, for namespace look-ups", () => {
    const p = new BoundedStreamParser();
    let el: XmlElement | undefined;
    p.on("element", (e: XmlElement) => (el = e));
    p.write(
      `${HEADER}<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
    );
    assert.ok(el?.is("error", "http://etherx.jabber.org/streams"));
  });

  it("refuses a stanza over the limit without keeping it, and reads the next one", () => {
    const big = `<message from='j@x.test/r' to='alice@sori.test' id='big'><body>${"x".repeat(300_000)}</body></message>`;
    const chunks = [
      HEADER,
      ...Array.from({ length: Math.ceil(big.length / 65_536) }, (_, i) =>
        big.slice(i * 65_536, (i + 1) * 65_536),
      ),
      STANZAS[0]!,
    ];
    const seen = feed(chunks);
    assert.deepEqual(seen.refused, [
      {
        name: "message",
        attrs: { from: "j@x.test/r", to: "alice@sori.test", id: "big" },
        reason: "too-large",
      },
    ]);
    assert.equal(seen.elements.length, 1);
    assert.deepEqual(seen.errors, []);
    // 10 MB in 64 KiB writes: refused, quickly, and the stream goes on.
    const started = Date.now();
    const p = new BoundedStreamParser({ maxStanzaBytes: 4096 });
    const refused: RefusedStanza[] = [];
    p.on("refused", (r: RefusedStanza) => refused.push(r));
    p.write(`${HEADER}<message to='a@sori.test'><body>`);
    const block = "y".repeat(65_536);
    for (let i = 0; i < 160; i++) p.write(block);
    p.write("</body></message>");
    assert.equal(refused.length, 1);
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });

  it("counts the limit in UTF-8 bytes", () => {
    const body = "가".repeat(1000); // 3000 bytes, 1000 characters
    const stanza = `<message to='a@sori.test'><body>${body}</body></message>`;
    assert.equal(feed([HEADER, stanza], 2500).refused[0]?.reason, "too-large");
    assert.equal(feed([HEADER, stanza], 4000).elements.length, 1);
  });

  it("refuses a stanza nested too deep, and one with an entity XML does not define or a forbidden character", () => {
    const deep = `<message to='a@sori.test'>${"<a>".repeat(40)}${"</a>".repeat(40)}</message>`;
    const laughs = `<message to='a@sori.test' from='j@x.test/r' id='l'><body>&lol9;</body></message>`;
    const control = `<message to='a@sori.test'><body>bell \u0007</body></message>`;
    const badAttr = `<message to='a@sori.test' from='&evil;'><body>x</body></message>`;
    const seen = feed([HEADER, deep, laughs, control, badAttr, STANZAS[3]!]);
    assert.deepEqual(
      seen.refused.map((r) => r.reason),
      ["too-deep", "malformed", "malformed", "malformed"],
    );
    assert.deepEqual(seen.refused[1]!.attrs, { to: "a@sori.test", from: "j@x.test/r", id: "l" });
    assert.deepEqual(seen.refused[3]!.attrs, {}, "attributes that do not parse are not answered to");
    assert.equal(seen.elements.length, 1);
    assert.deepEqual(seen.errors, []);
  });

  it("ends the stream on a DTD (billion laughs), a comment, a processing instruction or mismatched tags", () => {
    const laughs =
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>';
    const cases: [string[], string][] = [
      [[`<?xml version='1.0'?>${laughs}${HEADER.slice(21)}`], "restricted-xml"],
      [[HEADER, laughs, STANZAS[0]!], "restricted-xml"],
      [[HEADER, `<message to='a@sori.test'><!-- hi --><body>x</body></message>`], "restricted-xml"],
      [[HEADER, "<?php echo 1 ?>"], "restricted-xml"],
      [[HEADER, "<message><body>x</message>"], "not-well-formed"],
      [[HEADER, "<message a=1/>"], "not-well-formed"],
      [[HEADER, "<message a='<'/>"], "not-well-formed"],
      [["junk", HEADER], "not-well-formed"],
      [["<html>"], "not-well-formed"],
      [[HEADER, `<${"n".repeat(600)}/>`], "policy-violation"],
      [[`<stream:stream a='${"v".repeat(10_000)}'>`], "policy-violation"],
    ];
    for (const [chunks, code] of cases) {
      const seen = feed([...chunks, STANZAS[3]!]);
      assert.deepEqual(
        seen.errors.map((e) => e.code),
        [code],
        chunks.join("|").slice(0, 200),
      );
      assert.equal(seen.elements.length, 0, "nothing after the fault");
    }
  });

  it("answers a refused message or request with an error, and nothing else", () => {
    const r = (name: string, attrs: Record<string, string>): RefusedStanza => ({
      name,
      attrs,
      reason: "too-large",
    });
    const answer = refusalAnswer(
      r("message", { from: "j@x.test/r", to: "alice@sori.test", id: "7" }),
      "sori.test",
      100,
    );
    assert.equal(
      answer?.toString(),
      '<message type="error" from="alice@sori.test" to="j@x.test/r" id="7"><error type="modify">' +
        '<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">stanza too large: this gateway takes at most 100 bytes</text></error></message>',
    );
    assert.match(
      refusalAnswer(r("iq", { from: "x.test", to: "sori.test", type: "get" }), "sori.test", 1)!.toString(),
      /^<iq type="error"/,
    );
    assert.equal(
      refusalAnswer(r("iq", { from: "x.test", to: "sori.test", type: "result" }), "sori.test", 1),
      undefined,
    );
    assert.equal(
      refusalAnswer(r("presence", { from: "x.test", to: "sori.test" }), "sori.test", 1),
      undefined,
    );
    assert.equal(
      refusalAnswer(r("message", { from: "x.test", to: "sori.test", type: "error" }), "sori.test", 1),
      undefined,
    );
    assert.equal(refusalAnswer(r("message", { to: "sori.test" }), "sori.test", 1), undefined);
    assert.equal(
      refusalAnswer(r("message", { from: "x.test", to: "a@elsewhere.test" }), "sori.test", 1),
      undefined,
    );
  });
});
