import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TEXT_CHARS } from "@sori/sdk";
import { unfetchedText } from "./files-in.ts";

describe("an XMPP file that could not be fetched, as text", () => {
  const url = "https://u.test/f/a.bin";
  it("keeps the text and the link, and says why", () => {
    assert.equal(unfetchedText(url, url, "why"), `${url}\n[the XMPP gateway could not fetch this file: why]`);
    assert.equal(
      unfetchedText("a caption", url, "why"),
      `a caption\n${url}\n[the XMPP gateway could not fetch this file: why]`,
    );
  });

  it("fits a Sori message, the note whole and no surrogate pair cut in half", () => {
    const long = `${"가".repeat(MAX_TEXT_CHARS - 3)}🎉🎉`;
    const text = unfetchedText(long, url, "it is larger than 1 MB");
    assert.ok(text.length <= MAX_TEXT_CHARS, String(text.length));
    assert.ok(text.endsWith("\n[the XMPP gateway could not fetch this file: it is larger than 1 MB]"));
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(text), "no lone high surrogate");
  });
});
