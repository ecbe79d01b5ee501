import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { describe, it } from "node:test";
import { decodeAes128gcm, decryptPush } from "./mock-push-service.ts";

const b64u = (s: string): Buffer => Buffer.from(s, "base64url");

// The tests' push service decrypts what the server sends with code of its own; these are the RFCs'
// examples, so that a decoder that agrees with a wrong encoder cannot pass.
describe("the mock push service's decoder", () => {
  it("reads RFC 8188 §3.1 (one record, no key id)", () => {
    const body = b64u("I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg");
    const text = decodeAes128gcm(body, (keyId) => {
      assert.equal(keyId.length, 0);
      return b64u("yqdlZ-tYemfogSmv7Ws5PQ");
    });
    assert.equal(text.toString(), "I am the walrus");
  });

  it("reads RFC 8188 §3.2 (two records of 25 bytes, key id a1, padding)", () => {
    const body = b64u(
      "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA",
    );
    const text = decodeAes128gcm(body, (keyId) => {
      assert.equal(keyId.toString(), "a1");
      return b64u("BO3ZVPxUlnLORbVGMpbT1Q");
    });
    assert.equal(text.toString(), "I am the walrus");
  });

  it("decrypts RFC 8291 §5's push message with the user agent's private key", () => {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(b64u("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"));
    assert.equal(
      ecdh.getPublicKey("base64url"),
      "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
    );
    const body = b64u(
      "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
    );
    const text = decryptPush(body, { ecdh, auth: b64u("BTBZMqHH6r4Tts7J_aSIgg") });
    assert.equal(text.toString(), "When I grow up, I want to be a watermelon");
    // A flipped bit anywhere fails authentication.
    body[body.length - 1]! ^= 1;
    assert.throws(() => decryptPush(body, { ecdh, auth: b64u("BTBZMqHH6r4Tts7J_aSIgg") }));
  });
});
