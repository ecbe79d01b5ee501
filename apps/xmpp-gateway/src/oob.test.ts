import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseOob } from "./oob.ts";
import { parseMessageStanza } from "./stanzas.ts";
import { xml, type XmlChild, type XmlElement } from "./xmpp-library.ts";

const URL_ = "https://upload.xmpp.test/file_share/abc/%EC%82%AC%EC%A7%84.jpg";
const message = (...children: XmlChild[]): XmlElement =>
  xml(
    "message",
    { type: "chat", from: "juliet@xmpp.test/balcony", to: "alice@sori.test", id: "m-1" },
    ...children,
  );
const body = (text: string): XmlElement => xml("body", {}, text);
const oob = (url: string, desc?: string): XmlElement =>
  xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url), desc !== undefined && xml("desc", {}, desc));

describe("XEP-0066 file links parsed at the edge", () => {
  it("reads the Conversations form (body = URL, with oob) as a file without a caption", () => {
    assert.deepEqual(parseOob(message(body(URL_), oob(URL_)), URL_), { kind: "file", file: { url: URL_ } });
    const s = parseMessageStanza(message(body(URL_), oob(URL_)));
    assert.equal(s.kind, "chat");
    assert.ok(s.kind === "chat");
    assert.deepEqual(s.file, { url: URL_ });
    assert.equal(s.body, URL_, "the text form is the link");
  });

  it("takes a caption from a body around the URL, a body without it, or desc", () => {
    assert.deepEqual(parseOob(message(oob(URL_)), `여기 ${URL_}`), {
      kind: "file",
      file: { url: URL_, caption: "여기" },
    });
    assert.deepEqual(parseOob(message(oob(URL_)), "a photo"), {
      kind: "file",
      file: { url: URL_, caption: "a photo" },
    });
    assert.deepEqual(parseOob(message(oob(URL_, " the view ")), URL_), {
      kind: "file",
      file: { url: URL_, caption: "the view" },
    });
  });

  it("a message that is its link alone (no body) is a file whose text is the link", () => {
    const s = parseMessageStanza(message(oob(URL_)));
    assert.ok(s.kind === "chat", s.kind);
    assert.equal(s.body, URL_);
    assert.deepEqual(s.file, { url: URL_ });
  });

  it("a bare URL without oob is a text with a link; an empty or overlong oob URL is no file", () => {
    const plain = parseMessageStanza(message(body(URL_)));
    assert.ok(plain.kind === "chat");
    assert.equal(plain.file, undefined);
    assert.equal(parseOob(message(body("hi"), oob("  ")), "hi"), undefined);
    const long = `https://x.test/${"a".repeat(3000)}`;
    assert.equal(parseOob(message(body(long), oob(long)), long), undefined);
    const s = parseMessageStanza(message(body(long), oob(long)));
    assert.ok(s.kind === "chat");
    assert.equal(s.file, undefined);
  });

  it("keeps other schemes for the fetcher to refuse (so the sender hears why)", () => {
    const ftp = "ftp://files.test/a.bin";
    assert.deepEqual(parseOob(message(body(ftp), oob(ftp)), ftp), { kind: "file", file: { url: ftp } });
  });

  it("OMEMO media sharing (aesgcm://, in the body or the oob) is OMEMO, whatever else the stanza has", () => {
    const aes = "aesgcm://upload.xmpp.test/a/photo.jpg#00112233";
    assert.deepEqual(parseOob(message(body(aes)), aes), { kind: "omemo-media" });
    assert.deepEqual(parseOob(message(body("x"), oob(aes)), "x"), { kind: "omemo-media" });
    assert.equal(parseMessageStanza(message(body(aes), oob(aes))).kind, "omemo");
    assert.equal(parseMessageStanza(message(body(` AESGCM://h/x#k`))).kind, "omemo");
  });
});
