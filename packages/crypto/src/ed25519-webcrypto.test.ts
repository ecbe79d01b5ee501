import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { getCiphersuiteFromName, getCiphersuiteImpl } from "ts-mls";
import { CIPHER_SUITE } from "./cipher-suite.ts";
import { webCryptoEd25519 } from "./ed25519-webcrypto.ts";

const hex = (t: string): Uint8Array => Uint8Array.from(t.match(/../g) ?? [], (b) => parseInt(b, 16));

/** RFC 8032 §7.1 tests 2 and 3 (test 1 is the probe itself). */
const VECTORS = [
  {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

async function implementations(): Promise<
  { name: string; sig: Awaited<ReturnType<typeof webCryptoEd25519>> }[]
> {
  const base = (await getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE))).signature;
  return [
    { name: "WebCrypto", sig: await webCryptoEd25519(base) },
    { name: "strict fallback (no WebCrypto)", sig: await webCryptoEd25519(base, undefined) },
  ];
}

describe("Ed25519 through WebCrypto, with a strict fallback", () => {
  it("gives RFC 8032's signatures and verifies them, both ways", async () => {
    for (const { name, sig } of await implementations()) {
      for (const v of VECTORS) {
        assert.deepEqual(await sig.sign(hex(v.seed), hex(v.message)), hex(v.signature), name);
        assert.equal(await sig.verify(hex(v.publicKey), hex(v.message), hex(v.signature)), true, name);
      }
    }
  });

  it("signs exactly as ts-mls's default did (Ed25519 is deterministic), so old and new clients agree", async () => {
    const { sig } = (await implementations())[0]!;
    for (let i = 0; i < 20; i++) {
      const seed = ed25519.utils.randomSecretKey();
      const message = crypto.getRandomValues(new Uint8Array(1 + i * 13));
      const signature = await sig.sign(seed, message);
      assert.deepEqual(signature, ed25519.sign(message, seed));
      assert.equal(await sig.verify(ed25519.getPublicKey(seed), message, signature), true);
    }
  });

  it("refuses tampered messages, other keys, malformed keys and signatures, without throwing", async () => {
    for (const { name, sig } of await implementations()) {
      const v = VECTORS[0]!;
      const bad = hex(v.signature);
      bad[3]! ^= 1;
      assert.equal(await sig.verify(hex(v.publicKey), hex(v.message), bad), false, name);
      assert.equal(await sig.verify(hex(v.publicKey), hex("73"), hex(v.signature)), false, name);
      assert.equal(
        await sig.verify(hex(VECTORS[1]!.publicKey), hex(v.message), hex(v.signature)),
        false,
        name,
      );
      assert.equal(await sig.verify(new Uint8Array(31), hex(v.message), hex(v.signature)), false, name);
      assert.equal(await sig.verify(hex(v.publicKey), hex(v.message), new Uint8Array(63)), false, name);
      assert.equal(
        await sig.verify(new Uint8Array(32).fill(0xff), hex(v.message), hex(v.signature)),
        false,
        name,
      );
    }
  });

  it("refuses a signature whose S is not reduced (S + L), as RFC 8032 asks, on both paths alike", async () => {
    // L, the order of the base point, little-endian.
    const order = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    for (const { name, sig } of await implementations()) {
      const v = VECTORS[0]!;
      const s = hex(v.signature);
      let carry = 0;
      for (let i = 0; i < 32; i++) {
        const sum = s[32 + i]! + order[i]! + carry;
        s[32 + i] = sum & 0xff;
        carry = sum >> 8;
      }
      assert.equal(await sig.verify(hex(v.publicKey), hex(v.message), s), false, name);
    }
  });
});
