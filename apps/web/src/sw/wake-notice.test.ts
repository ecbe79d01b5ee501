import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PushPayload } from "@sori/protocol";
import { noticeLanguage, parseWake, wakeNotice } from "./wake-notice.ts";

/** What the server sends: the JSON padded with spaces to 32 bytes. */
const padded = (json: string): string => json.padEnd(32, " ");

describe("parseWake", () => {
  const cases: [string, string][] = [
    ["a message", padded('{"kind":"message"}')],
    ["a call", '{"kind":"call"}'],
    ["another kind", '{"kind":"text"}'],
    ["an extra field", '{"kind":"message","from":"alice"}'],
    ["no kind", "{}"],
    ["an array", '["message"]'],
    ["null", "null"],
    ["a string", '"message"'],
    ["not JSON", "message"],
    ["empty", ""],
    ["a kind that is not a string", '{"kind":1}'],
  ];
  for (const [what, text] of cases)
    it(`agrees with PushPayload on ${what}`, () => {
      let expected: string | undefined;
      try {
        expected = PushPayload.safeParse(JSON.parse(text)).data?.kind;
      } catch {
        expected = undefined;
      }
      assert.equal(parseWake(text), expected);
    });

  it("takes the two kinds and refuses an oversized payload", () => {
    assert.equal(parseWake(padded('{"kind":"message"}')), "message");
    assert.equal(parseWake('{"kind":"call"}'), "call");
    assert.equal(parseWake('{"kind":"call"}' + " ".repeat(300)), undefined);
  });
});

describe("wakeNotice", () => {
  it("says only the kind, in the person's language, one per kind, a call ringing again", () => {
    assert.deepEqual(wakeNotice("message", "en"), {
      title: "New message",
      body: "Open Sori to read it.",
      tag: "message",
      renotify: false,
      requireInteraction: false,
    });
    const call = wakeNotice("call", "ko");
    assert.equal(call.title, "전화가 왔어요");
    assert.equal(call.tag, "call");
    assert.equal(call.renotify, true);
  });

  it("takes the saved language, else the browser's, and ignores a damaged setting", () => {
    assert.equal(noticeLanguage({ language: "ko" }, ["en-US"]), "ko");
    assert.equal(noticeLanguage({ language: "system" }, ["ko-KR"]), "ko");
    assert.equal(noticeLanguage(null, ["en-GB"]), "en");
    assert.equal(noticeLanguage({ language: "fr" }, ["ko"]), "ko");
    assert.equal(noticeLanguage("ko", ["en"]), "en");
  });
});
