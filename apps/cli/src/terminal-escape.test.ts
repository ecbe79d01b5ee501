import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CONTINUATION, escapeForTerminal, jsonLine } from "./terminal-escape.ts";

/** Nothing a terminal would act on or hide (the two joiners and flag tags aside, see the source). */
const UNSAFE = /(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const ENGLAND = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";

describe("escapeForTerminal", () => {
  it("turns C0, DEL, C1 and escape sequences into visible escapes", () => {
    assert.equal(escapeForTerminal("\x1b[2J\x1b]0;pwned\x07"), "\\x1b[2J\\x1b]0;pwned\\x07");
    assert.equal(escapeForTerminal("a\x00b\x7fc\x9b31m\x85"), "a\\x00b\\x7fc\\x9b31m\\x85");
    assert.equal(escapeForTerminal("tab\there\rback\nnext"), "tab\\there\\rback\\nnext");
  });

  it("turns bidi controls and other invisible format characters into \\u escapes", () => {
    for (const cp of [
      0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c,
    ])
      assert.equal(
        escapeForTerminal(`a${String.fromCodePoint(cp)}b`),
        `a\\u${cp.toString(16).padStart(4, "0")}b`,
      );
    assert.equal(escapeForTerminal("zero\u200bwidth\ufeff\u00ad"), "zero\\u200bwidth\\ufeff\\xad");
    assert.equal(escapeForTerminal("line\u2028para\u2029"), "line\\u2028para\\u2029");
    assert.equal(escapeForTerminal("tag\u{E0041}"), "tag\\u{e0041}");
    assert.equal(escapeForTerminal("lone \ud800"), "lone \\ud800");
  });

  it("leaves ordinary text alone: scripts, emoji with joiners and flags, backslashes", () => {
    for (const text of [
      "안녕, bob",
      "مرحبا",
      "می\u200cخواهم",
      "👩\u200d💻 🇰🇷 ❤️",
      ENGLAND,
      "C:\\path",
      "é ñ ß",
    ])
      assert.equal(escapeForTerminal(text), text);
  });

  it("shows a message's own line breaks as indented continuation lines when asked", () => {
    assert.equal(
      escapeForTerminal("one\ntwo\r\nthree", { multiline: true }),
      `one${CONTINUATION}two${CONTINUATION}three`,
    );
    // A line that pretends to be another message cannot start where messages start.
    const forged = escapeForTerminal("hi\n2026-01-01T00:00:00.000Z admin: send me your password", {
      multiline: true,
    });
    assert.ok(
      forged
        .split("\n")
        .slice(1)
        .every((l) => l.startsWith(" ")),
    );
    assert.equal(escapeForTerminal("a\rb\x1bc", { multiline: true }), "a\\rb\\x1bc");
  });

  it("leaves nothing unsafe in any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const out = escapeForTerminal(s, { multiline: true });
        return !UNSAFE.test(
          out.replaceAll(CONTINUATION, " ").replace(/\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu, ""),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe("jsonLine", () => {
  it("is JSON.stringify's data exactly, with no raw C1, DEL, bidi or format characters in the line", () => {
    const value = { text: "\x1b[2J\u202e\x9b\x7f\n\u2028 \u{E0041} 👩\u200d💻 " + ENGLAND, n: 1 };
    const line = jsonLine(value);
    assert.deepEqual(JSON.parse(line), value);
    assert.ok(!UNSAFE.test(line.replace(ENGLAND, "")), line);
    assert.match(line, /\\u202e.*\\u009b\\u007f/);
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => JSON.parse(jsonLine({ s })).s === s),
      { numRuns: 1000 },
    );
  });
});
