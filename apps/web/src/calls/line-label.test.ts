import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkError } from "@sori/sdk";
import { en } from "../i18n/en.ts";
import { ko } from "../i18n/ko.ts";
import type { Dictionary, MessageKey } from "../i18n/message-key.ts";
import { phoneLineFailure } from "../lib/phone-line-error.ts";
import { callLineNote, phoneOfLine } from "./line-label.ts";

const translator =
  (dict: Dictionary) =>
  (key: MessageKey, vars?: Record<string, string | number>): string =>
    dict[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      vars && name in vars ? String(vars[name]) : whole,
    );

describe("the note on a call bridged by a gateway", () => {
  const t = translator(en);

  it("names the person and their phone, not the gateway account, in both directions", () => {
    assert.equal(
      callLineNote(t, { direction: "incoming", gateway: "gw", owner: "Alice", lineName: "desk" }),
      "Alice — desk phone · not end-to-end encrypted past the gateway",
    );
    assert.equal(
      callLineNote(t, { direction: "outgoing", gateway: "alice", owner: "Alice", lineName: "desk" }),
      "Answered on Alice's desk phone — not end-to-end encrypted past the gateway",
    );
    assert.equal(
      callLineNote(translator(ko), {
        direction: "incoming",
        gateway: "gw",
        owner: "앨리스",
        lineName: "책상",
      }),
      "앨리스 — 책상 전화기 · 게이트웨이 너머로는 종단 간 암호화되지 않음",
    );
  });

  it("names the gateway for any other phone call", () => {
    assert.equal(
      callLineNote(t, { direction: "incoming", gateway: "gw" }),
      "Phone call via gw — not end-to-end encrypted",
    );
  });

  it("does not say phone twice", () => {
    assert.equal(phoneOfLine(t, "Office phone"), "Office phone");
    assert.equal(phoneOfLine(translator(ko), "사무실 전화"), "사무실 전화");
    assert.equal(phoneOfLine(t, undefined), "phone");
  });
});

describe("a failed phone-line add", () => {
  const o = { gateway: "gw", name: "desk", lines: 1, maxLines: 5 };

  it("is told by its code, with a refusing gateway's own reason", () => {
    assert.equal(phoneLineFailure(new SdkError("timeout", "x"), o).key, "lines.error.timeout");
    assert.equal(phoneLineFailure(new SdkError("conflict", "x"), o).key, "lines.error.conflict");
    assert.equal(phoneLineFailure(new SdkError("unknown-user", "x"), o).key, "lines.error.unknownGateway");
    const refused = phoneLineFailure(
      new SdkError("forbidden", "gw refused the line: only staff", { reason: "only staff" }),
      o,
    );
    assert.deepEqual([refused.key, refused.reason], ["lines.error.forbidden", "only staff"]);
    assert.equal(
      phoneLineFailure(new SdkError("bad-request", "x", { limit: 5 }), { ...o, lines: 5 }).key,
      "lines.error.tooMany",
    );
    assert.equal(phoneLineFailure(new SdkError("not-a-gateway", "x"), o).key, "lines.error.notGateway");
    assert.equal(phoneLineFailure(new SdkError("bad-request", "x"), o).key, "lines.error.notGateway");
    assert.equal(phoneLineFailure(new Error("boom"), o).key, "error.generic");
  });
});
