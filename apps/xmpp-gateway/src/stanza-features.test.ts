import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chatExtrasOf,
  outgoingParts,
  parseFeature,
  reactionsStanza,
  retractionStanza,
} from "./stanza-features.ts";
import { parseMessageStanza } from "./stanzas.ts";
import { xml, type XmlChild, type XmlElement } from "./xmpp-library.ts";

const message = (...children: XmlChild[]): XmlElement =>
  xml(
    "message",
    { type: "chat", from: "juliet@xmpp.test/balcony", to: "alice@sori.test", id: "m-1" },
    ...children,
  );
const body = (text: string): XmlElement => xml("body", {}, text);

describe("XMPP message features parsed at the edge", () => {
  it("reads chat states, displayed markers, corrections, both retraction forms and reactions", () => {
    const composing = message(xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" }));
    assert.deepEqual(parseFeature(composing, null), { kind: "chat-state", state: "composing" });
    const displayed = message(xml("displayed", { xmlns: "urn:xmpp:chat-markers:0", id: "s-1" }));
    assert.deepEqual(parseFeature(displayed, null), { kind: "displayed", of: "s-1" });
    const correction = message(
      body("fixed"),
      xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "j-1" }),
    );
    assert.deepEqual(parseFeature(correction, "fixed"), { kind: "correction", of: "j-1", body: "fixed" });
    const retractV1 = message(
      xml("retract", { xmlns: "urn:xmpp:message-retract:1", id: "o-1" }),
      body("fallback"),
    );
    assert.deepEqual(parseFeature(retractV1, "fallback"), { kind: "retraction", of: "o-1" });
    const retractV0 = message(
      xml(
        "apply-to",
        { xmlns: "urn:xmpp:fasten:0", id: "o-2" },
        xml("retract", { xmlns: "urn:xmpp:message-retract:0" }),
      ),
    );
    assert.deepEqual(parseFeature(retractV0, null), { kind: "retraction", of: "o-2" });
    const reactions = message(
      xml(
        "reactions",
        { xmlns: "urn:xmpp:reactions:0", id: "s-2" },
        xml("reaction", {}, "👍"),
        xml("reaction", {}, "👍"),
        xml("reaction", {}, "❤️"),
      ),
    );
    assert.deepEqual(parseFeature(reactions, null), { kind: "reactions", of: "s-2", emojis: ["👍", "❤️"] });
  });

  it("takes a corrected reply's quote out of the corrected text", () => {
    const quote = "> 원문\n";
    const corrected = message(
      body(`${quote}고친 답장`),
      xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "j-2" }),
      xml("reply", { xmlns: "urn:xmpp:reply:0", id: "s-1" }),
      xml(
        "fallback",
        { xmlns: "urn:xmpp:fallback:0", for: "urn:xmpp:reply:0" },
        xml("body", { start: "0", end: String([...quote].length) }),
      ),
    );
    assert.deepEqual(parseFeature(corrected, `${quote}고친 답장`), {
      kind: "correction",
      of: "j-2",
      body: "고친 답장",
    });
  });

  it("takes a retraction's or reaction's fallback body for the feature, never for text", () => {
    const stanza = message(
      xml("retract", { xmlns: "urn:xmpp:message-retract:1", id: "o-1" }),
      body("this was retracted"),
    );
    assert.equal(parseMessageStanza(stanza).kind, "retraction");
    const tooLong = message(xml("retract", { xmlns: "urn:xmpp:message-retract:1", id: "x".repeat(200) }));
    assert.equal(parseMessageStanza(tooLong).kind, "ignored");
  });

  it("strips a reply's quote by code points (both fallback namespaces), keeps the body when a range is wrong", () => {
    const quote = "> 안녕 🎉\n";
    const text = "답장 <&>";
    const reply = (ns: string, start: string, end: string): XmlElement =>
      message(
        body(quote + text),
        xml("reply", { xmlns: "urn:xmpp:reply:0", to: "alice@sori.test", id: "s-3" }),
        xml("fallback", { xmlns: ns, for: "urn:xmpp:reply:0" }, xml("body", { start, end })),
        xml("markable", { xmlns: "urn:xmpp:chat-markers:0" }),
        xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: "o-3" }),
      );
    const end = String([...quote].length);
    for (const ns of ["urn:xmpp:fallback:0", "urn:xmpp:feature-fallback:0"]) {
      assert.deepEqual(chatExtrasOf(reply(ns, "0", end), quote + text), {
        markable: true,
        originId: "o-3",
        reply: { of: "s-3", text },
      });
    }
    assert.deepEqual(chatExtrasOf(reply("urn:xmpp:fallback:0", "0", "999"), quote + text), {
      markable: true,
      originId: "o-3",
    });
    const parsed = parseMessageStanza(reply("urn:xmpp:fallback:0", "0", end));
    assert.equal(parsed.kind === "chat" && parsed.body, quote + text);
  });

  it("builds replies whose fallback covers exactly the quote, and reactions and retractions in both forms", () => {
    const { body: full, extras } = outgoingParts("s-4", "yes <b>", {
      author: "juliet@xmpp.test",
      of: "j-4",
      text: "어디야?\n& 언제?",
    });
    assert.equal(full, "> 어디야?\n> & 언제?\nyes <b>");
    const fallback = extras.find(
      (e): e is XmlElement => typeof e === "object" && !!e && e.name === "fallback",
    );
    const range = fallback!.getChild("body")!;
    assert.equal([...full].slice(Number(range.attrs.end)).join(""), "yes <b>");
    const reactions = reactionsStanza("alice@sori.test", "juliet@xmpp.test", "j-4", ["🎉", "👍"]);
    assert.match(
      reactions.toString(),
      /<reactions xmlns="urn:xmpp:reactions:0" id="j-4"><reaction>🎉<\/reaction><reaction>👍<\/reaction><\/reactions>/,
    );
    const retraction = retractionStanza("alice@sori.test", "juliet@xmpp.test", "s-5").toString();
    assert.match(retraction, /<retract xmlns="urn:xmpp:message-retract:1" id="s-5"\/>/);
    assert.match(
      retraction,
      /<apply-to xmlns="urn:xmpp:fasten:0" id="s-5"><retract xmlns="urn:xmpp:message-retract:0"\/><\/apply-to>/,
    );
  });
});
