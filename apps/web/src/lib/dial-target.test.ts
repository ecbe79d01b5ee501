import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDialTarget, phonePartyLabel } from "./dial-target.ts";

describe("parseDialTarget", () => {
  it("turns a number written with separators into tel: without them", () => {
    assert.deepEqual(parseDialTarget("+82 10-1234-5678"), {
      ok: true,
      kind: "number",
      uri: "tel:+821012345678",
    });
    assert.deepEqual(parseDialTarget(" (02) 123 4567 "), { ok: true, kind: "number", uri: "tel:021234567" });
    assert.deepEqual(parseDialTarget("*31#"), { ok: true, kind: "number", uri: "tel:*31#" });
    assert.deepEqual(parseDialTarget("tel:+1 (555) 010-0000"), {
      ok: true,
      kind: "number",
      uri: "tel:+15550100000",
    });
  });

  it("passes sip: and sips: URIs on as they are", () => {
    assert.deepEqual(parseDialTarget("sip:carol@127.0.0.1:35000"), {
      ok: true,
      kind: "sip",
      uri: "sip:carol@127.0.0.1:35000",
    });
    assert.deepEqual(parseDialTarget(" sips:carol@example.net "), {
      ok: true,
      kind: "sip",
      uri: "sips:carol@example.net",
    });
    assert.deepEqual(parseDialTarget("SIP:Carol@Example.net"), {
      ok: true,
      kind: "sip",
      uri: "SIP:Carol@Example.net",
    });
  });

  it("refuses anything else, and says when the field is empty", () => {
    assert.deepEqual(parseDialTarget("   "), { ok: false, reason: "empty" });
    for (const bad of [
      "carol@example.net",
      "http://example.net",
      "sip:",
      "sip:carol @example.net",
      "sip:@example.net",
      "12+34",
      "++82",
      "+",
      "( - )",
      "1.234",
      "010-1234-567x",
      "1".repeat(33),
      `sip:${"a".repeat(260)}@example.net`,
    ])
      assert.deepEqual(parseDialTarget(bad), { ok: false, reason: "invalid" }, bad);
    assert.equal(parseDialTarget("1".repeat(32)).ok, true, "32 digits are the most a gateway takes");
  });
});

describe("phonePartyLabel", () => {
  it("shows a number without tel:, an address as it is", () => {
    assert.equal(phonePartyLabel("tel:+821012345678"), "+821012345678");
    assert.equal(phonePartyLabel("sip:carol@example.net"), "sip:carol@example.net");
  });
});
