import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteReader, ByteWriter, bytesEqual, toBase64Url } from "./bytes.ts";
import { CryptoError } from "./types.ts";

describe("bytes helpers", () => {
  it("encodes base64url exactly like Node's Buffer", () => {
    for (let length = 0; length < 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      assert.equal(toBase64Url(bytes), Buffer.from(bytes).toString("base64url"));
    }
    assert.equal(toBase64Url(Uint8Array.of(0xfb, 0xff)), "-_8");
  });

  it("writes and reads length-prefixed fields, rejecting truncation and trailing bytes", () => {
    const encoded = new ByteWriter()
      .u8(7)
      .bytes(Uint8Array.of(1, 2, 3))
      .bytes(new Uint8Array())
      .finish();
    assert.deepEqual([...encoded], [7, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0]);
    const reader = new ByteReader(encoded, "test");
    assert.equal(reader.u8(), 7);
    assert.deepEqual(reader.bytes(), Uint8Array.of(1, 2, 3));
    assert.deepEqual(reader.bytes(), new Uint8Array());
    reader.end();

    const short = new ByteReader(encoded.subarray(0, 6), "test");
    short.u8();
    assert.throws(
      () => short.bytes(),
      (e: unknown) => e instanceof CryptoError && e.code === "malformed",
    );
    const long = new ByteReader(Uint8Array.of(1, 2), "test");
    long.u8();
    assert.throws(
      () => long.end(),
      (e: unknown) => e instanceof CryptoError && e.code === "malformed",
    );
  });

  it("compares bytes", () => {
    assert.ok(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
    assert.ok(!bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
    assert.ok(!bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 0)));
  });
});
