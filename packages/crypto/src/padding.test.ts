import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pad, padmeLength, unpad } from "./padding.ts";
import { CryptoError } from "./types.ts";

describe("Padmé padding", () => {
  it("rounds lengths up to few distinct values, with at most 12 % overhead", () => {
    assert.equal(padmeLength(1000), 1024);
    assert.equal(padmeLength(1025), 1088);
    assert.equal(padmeLength(300), 304);
    for (let n = 2; n < 70_000; n += 37) {
      const p = padmeLength(n);
      assert.ok(p >= n && p <= n * 1.12 + 1, `${n} -> ${p}`);
    }
    // Everything from 1025 to 1088 bytes looks the same.
    assert.equal(new Set(Array.from({ length: 64 }, (_, i) => padmeLength(1025 + i))).size, 1);
  });

  it("round-trips any plaintext, trailing zeros included", () => {
    for (const text of [new Uint8Array(0), Uint8Array.of(0, 0, 0), new TextEncoder().encode('{"a":1}')]) {
      assert.deepEqual(unpad(pad(text)), text);
    }
  });

  it("refuses unpadded input", () => {
    assert.throws(() => unpad(Uint8Array.of(1, 2, 3, 0)), CryptoError);
    assert.throws(() => unpad(new Uint8Array(4)), CryptoError);
  });
});
