import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { fromBase64, fromBase64Url, toBase64, toBase64Portable, toBase64Url } from "./base64.ts";

describe("base64", () => {
  it("matches Node's encoder for every length 0..64 and round-trips", () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = randomBytes(n);
      const text = toBase64(bytes);
      assert.equal(text, bytes.toString("base64"));
      assert.equal(toBase64Portable(bytes), text, "the browsers' encoder agrees");
      assert.equal(toBase64(new Uint8Array(bytes)), text, "a Uint8Array encodes like a Buffer");
      assert.deepEqual(fromBase64(text), new Uint8Array(bytes));
      assert.equal(toBase64Url(bytes), bytes.toString("base64url"));
      assert.deepEqual(fromBase64Url(toBase64Url(bytes)), new Uint8Array(bytes));
    }
  });

  it("encodes views into larger buffers, natively and portably alike", () => {
    const big = randomBytes(3 * 8192 + 5);
    assert.equal(toBase64Portable(big), big.toString("base64"));
    assert.equal(toBase64(big), big.toString("base64"));
    const view = new Uint8Array(big.buffer, big.byteOffset + 7, 100);
    assert.equal(toBase64(view), Buffer.from(view).toString("base64"));
    assert.equal(toBase64Portable(view), Buffer.from(view).toString("base64"));
  });

  it("rejects what is not canonical base64", () => {
    for (const bad of ["A", "AB=C", "A===", "AAA*", "AA\u00e9A", "AAAA=", "=AAA", "+++=", "AB==", "AAB="]) {
      assert.equal(fromBase64(bad), undefined, bad);
    }
    assert.equal(fromBase64Url("a+b/"), undefined);
    assert.equal(fromBase64Url("AB"), undefined, "non-zero trailing bits");
    assert.deepEqual(fromBase64Url("AA"), new Uint8Array([0]));
  });
});
