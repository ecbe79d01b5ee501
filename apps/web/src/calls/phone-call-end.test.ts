import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { en } from "../i18n/en.ts";
import { ko } from "../i18n/ko.ts";
import { isDialledPhoneCall, phoneCallEnd } from "./phone-call-end.ts";

describe("how a call to a phone ended", () => {
  it("says declined, busy and unreachable in a phone's words, with a hint for the first and last", () => {
    assert.deepEqual(phoneCallEnd("declined"), {
      status: "call.phone.declined",
      hint: "call.phone.declinedHint",
    });
    assert.deepEqual(phoneCallEnd("busy"), { status: "call.phone.busy" });
    assert.deepEqual(phoneCallEnd("unreachable"), {
      status: "call.phone.unreachable",
      hint: "call.phone.unreachableHint",
    });
    // "No answer", "Call ended" and the rest read the same for a phone.
    assert.equal(phoneCallEnd("no-answer"), null);
    assert.equal(phoneCallEnd("remote-hangup"), null);
    assert.equal(phoneCallEnd(null), null);
  });

  it("the declined hint names the gateway and its operator in both languages", () => {
    assert.match(en["call.phone.declinedHint"], /\{gateway\}.*operator decides who may/);
    assert.match(ko["call.phone.declinedHint"], /\{gateway\}.*게이트웨이 운영자가 정해요/);
  });

  it("is a dialled phone call only when placed here to a foreign party, not answered on someone's line", () => {
    const via = { network: "sip", uri: "tel:+821012345678" };
    assert.equal(isDialledPhoneCall({ direction: "outgoing", via, lineOwner: undefined }), true);
    assert.equal(isDialledPhoneCall({ direction: "incoming", via, lineOwner: undefined }), false);
    assert.equal(isDialledPhoneCall({ direction: "outgoing", via: undefined, lineOwner: undefined }), false);
    assert.equal(
      isDialledPhoneCall({ direction: "outgoing", via, lineOwner: { userId: "u", username: "bob" } }),
      false,
    );
  });
});
