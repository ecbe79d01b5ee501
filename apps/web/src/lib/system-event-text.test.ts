import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SystemEvent } from "@sori/sdk";
import { en } from "../i18n/en.ts";
import { ko } from "../i18n/ko.ts";
import type { Dictionary, MessageKey } from "../i18n/message-key.ts";
import { isWarningEvent, systemEventText } from "./system-event-text.ts";

const translator =
  (dict: Dictionary) =>
  (key: MessageKey, vars?: Record<string, string | number>): string =>
    dict[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      vars && name in vars ? String(vars[name]) : whole,
    );

const who = { userId: "u-bob", username: "bob" };
/** One of every event the SDK writes into a chat. */
const EVENTS: SystemEvent[] = [
  { event: "timer", seconds: 300, by: "bob" },
  { event: "timer", seconds: 0, by: "bob" },
  { event: "devices-changed", ...who },
  { event: "identity-changed", ...who },
  { event: "identity-accepted", ...who },
  { event: "device-refused", ...who, deviceId: "d1", reason: "untrusted-key" },
  { event: "rejoined" },
  { event: "messages-missing", ...who, count: 1 },
  { event: "messages-missing", ...who, count: 3 },
  { event: "reordered", ...who },
  { event: "contact", ...who, state: "asked-me", by: "them" },
  { event: "contact", ...who, state: "asked-them", by: "me" },
  { event: "contact", ...who, state: "accepted", by: "them" },
  { event: "contact", ...who, state: "accepted", by: "me" },
  { event: "contact", ...who, state: "declined", by: "them" },
  { event: "contact", ...who, state: "declined", by: "me" },
  { event: "contact", ...who, state: "none", by: "them" },
  { event: "contact", ...who, state: "none", by: "me" },
];

describe("system lines", () => {
  it("say what happened, naming the person by username", () => {
    const t = translator(en);
    assert.equal(systemEventText(EVENTS[0]!, t), "bob set disappearing messages to 5 minutes.");
    assert.equal(systemEventText(EVENTS[1]!, t, true), "You turned off disappearing messages.");
    assert.equal(
      systemEventText(EVENTS[3]!, t),
      "bob's safety number changed. Check it with bob before you send.",
    );
    assert.equal(systemEventText(EVENTS[4]!, t), "You accepted bob's new safety number.");
    assert.match(systemEventText(EVENTS[5]!, t), /refused a device .* as bob's.*may be trying to read/);
    assert.match(systemEventText(EVENTS[6]!, t), /missed a change .* can't be read here/);
    assert.equal(
      systemEventText(EVENTS[7]!, t),
      "1 message from bob did not arrive: it expired, or the server dropped it.",
    );
    assert.equal(
      systemEventText(EVENTS[8]!, t),
      "3 messages from bob did not arrive: they expired, or the server dropped them.",
    );
    assert.match(systemEventText(EVENTS[9]!, t), /^Messages from bob arrived out of order/);
    assert.equal(systemEventText(EVENTS[10]!, t), "bob asked to be your contact.");
    assert.equal(systemEventText(EVENTS[15]!, t), "You declined bob's contact request.");
  });

  it("have a distinct, complete sentence in both languages for every event", () => {
    for (const dict of [en, ko]) {
      const t = translator(dict);
      const texts = EVENTS.map((e) => systemEventText(e, t));
      for (const text of texts) assert.doesNotMatch(text, /\{\w+\}/, `no placeholder left: ${text}`);
      assert.equal(new Set(texts).size, texts.length, "every event reads differently");
    }
    assert.match(systemEventText(EVENTS[8]!, translator(ko)), /bob 님의 메시지 3개가 도착하지 않았어요/);
  });

  it("mark only what may be wrong as a warning", () => {
    const warnings = EVENTS.filter(isWarningEvent).map((e) => e.event);
    assert.deepEqual(
      [...new Set(warnings)],
      ["devices-changed", "identity-changed", "device-refused", "rejoined", "messages-missing", "reordered"],
    );
  });
});
