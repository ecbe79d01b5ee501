import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CallEntry } from "@sori/sdk";
import { en } from "../i18n/en.ts";
import { ko } from "../i18n/ko.ts";
import type { Dictionary, MessageKey } from "../i18n/message-key.ts";
import { callHistoryLabel, formatDuration } from "./call-history-label.ts";

const translator =
  (dict: Dictionary) =>
  (key: MessageKey, vars?: Record<string, string | number>): string =>
    dict[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      vars && name in vars ? String(vars[name]) : whole,
    );

const entry = (over: Partial<CallEntry>): CallEntry => ({
  callId: "c1",
  media: "audio",
  direction: "outgoing",
  outcome: "answered",
  missed: false,
  durationS: 0,
  ...over,
});

describe("call history labels", () => {
  it("formats durations as m:ss, and h:mm:ss from an hour", () => {
    assert.equal(formatDuration(0), "0:00");
    assert.equal(formatDuration(65), "1:05");
    assert.equal(formatDuration(3599), "59:59");
    assert.equal(formatDuration(3723), "1:02:03");
    assert.equal(formatDuration(-4), "0:00");
  });

  it("reads answered, unanswered, declined and missed calls from each side", () => {
    const t = translator(en);
    assert.equal(callHistoryLabel(entry({ durationS: 185 }), t), "Outgoing voice call · 3:05");
    assert.equal(
      callHistoryLabel(entry({ direction: "incoming", media: "video", durationS: 7 }), t),
      "Incoming video call · 0:07",
    );
    assert.equal(callHistoryLabel(entry({ outcome: "no-answer" }), t), "Outgoing voice call · No answer");
    assert.equal(
      callHistoryLabel(entry({ outcome: "busy", media: "video" }), t),
      "Outgoing video call · Busy",
    );
    // The callee's side: not answered is missed, but a call they declined themselves is not "missed".
    assert.equal(
      callHistoryLabel(entry({ direction: "incoming", outcome: "no-answer", missed: true }), t),
      "Missed voice call",
    );
    assert.equal(
      callHistoryLabel(
        entry({ direction: "incoming", outcome: "cancelled", missed: true, media: "video" }),
        t,
      ),
      "Missed video call",
    );
    assert.equal(
      callHistoryLabel(entry({ direction: "incoming", outcome: "declined", missed: true }), t),
      "Incoming voice call · Declined",
    );
  });

  it("has Korean for each of them", () => {
    const t = translator(ko);
    assert.equal(callHistoryLabel(entry({ durationS: 61 }), t), "발신 음성 통화 · 1:01");
    assert.equal(
      callHistoryLabel(entry({ direction: "incoming", outcome: "no-answer", missed: true }), t),
      "부재중 음성 통화",
    );
    assert.equal(callHistoryLabel(entry({ outcome: "failed" }), t), "발신 음성 통화 · 연결 실패");
  });
});
