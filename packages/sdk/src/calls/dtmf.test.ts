import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDtmfTones, DtmfError } from "./dtmf.ts";

test("DTMF tones are 0-9, *, #, A-D; letters are upper-cased", () => {
  assert.equal(checkDtmfTones("0123456789*#"), "0123456789*#");
  assert.equal(checkDtmfTones("abcd"), "ABCD");
  for (const bad of ["", "E", "1,2", " 1", "١"])
    assert.throws(
      () => checkDtmfTones(bad),
      (e: unknown) => e instanceof DtmfError && e.code === "invalid-tones",
    );
});
