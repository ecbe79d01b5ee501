import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { describe, it } from "node:test";
import { encryptAes128gcm, encryptWebPush, isP256PublicKey } from "./web-push-encryption.ts";

const b64u = (s: string): Buffer => Buffer.from(s, "base64url");

// RFC 8291 §5 and Appendix A: the user agent's keys, the application server's ephemeral key and salt.
const UA_PUBLIC = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH = "BTBZMqHH6r4Tts7J_aSIgg";
const AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const SALT = "DGv6ra1nlYgDCS1FRnbzlw";
const RFC_8291_BODY =
  "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" +
  "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT" +
  "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

describe("Web Push encryption (RFC 8291, aes128gcm of RFC 8188)", () => {
  it("makes RFC 8291 §5's message byte for byte", () => {
    const body = encryptWebPush(
      Buffer.from("When I grow up, I want to be a watermelon"),
      { p256dh: b64u(UA_PUBLIC), auth: b64u(AUTH) },
      { ephemeral: b64u(AS_PRIVATE), salt: b64u(SALT) },
    );
    assert.equal(body.toString("base64url"), RFC_8291_BODY);
  });

  it("makes RFC 8188 §3.1's example byte for byte", () => {
    const body = encryptAes128gcm(Buffer.from("I am the walrus"), b64u("yqdlZ-tYemfogSmv7Ws5PQ"), {
      salt: b64u("I1BsxtFttlv3u_Oo94xnmw"),
    });
    assert.equal(
      body.toString("base64url"),
      "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg",
    );
  });

  it("uses a fresh key and salt for every push, one 4096-byte record, padded as asked", () => {
    const keys = { p256dh: b64u(UA_PUBLIC), auth: b64u(AUTH) };
    const a = encryptWebPush(Buffer.from('{"kind":"call"}'), keys, { padding: 17 });
    const b = encryptWebPush(Buffer.from('{"kind":"call"}'), keys, { padding: 17 });
    assert.notDeepEqual(a.subarray(0, 16), b.subarray(0, 16), "salts differ");
    assert.notDeepEqual(a.subarray(21, 86), b.subarray(21, 86), "ephemeral keys differ");
    assert.equal(a.readUInt32BE(16), 4096);
    assert.equal(a[20], 65);
    // header 86 + 15 bytes of text + delimiter + 17 of padding + 16 of tag
    assert.equal(a.length, 86 + 15 + 1 + 17 + 16);
    assert.throws(() => encryptWebPush(Buffer.alloc(4080), keys), RangeError);
  });

  it("tells P-256 public keys from bytes that are not one", () => {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    assert.equal(isP256PublicKey(ecdh.getPublicKey()), true);
    assert.equal(isP256PublicKey(ecdh.getPublicKey(null, "compressed")), false);
    assert.equal(isP256PublicKey(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)])), false);
    assert.equal(isP256PublicKey(Buffer.alloc(65)), false);
  });
});
