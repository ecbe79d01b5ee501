import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { certifyDevice, generateAccountKeys, generateDeviceKeys } from "@sori/crypto";
import { verifyDeviceCertificate } from "./device-certificates.ts";

describe("device certificates on the server", () => {
  it("verify what clients sign, and nothing else", async () => {
    const account = generateAccountKeys();
    const keys = await generateDeviceKeys();
    const device = {
      userId: "user-aaaaaaaaaaaaaaaa",
      deviceId: "dev-bbbbbbbbbbbbbbbb",
      signatureKey: keys.signaturePublicKey,
    };
    const { certificate } = certifyDevice(account, device, keys.signaturePublicKey);
    assert.equal(verifyDeviceCertificate(account.publicKey, device, certificate), true);
    assert.equal(verifyDeviceCertificate(generateAccountKeys().publicKey, device, certificate), false);
    assert.equal(
      verifyDeviceCertificate(
        account.publicKey,
        { ...device, deviceId: "dev-cccccccccccccccc" },
        certificate,
      ),
      false,
    );
    const other = await generateDeviceKeys();
    assert.equal(
      verifyDeviceCertificate(
        account.publicKey,
        { ...device, signatureKey: other.signaturePublicKey },
        certificate,
      ),
      false,
    );
    assert.equal(verifyDeviceCertificate(account.publicKey, device, new Uint8Array(64)), false);
    assert.equal(verifyDeviceCertificate(new Uint8Array(31), device, certificate), false);
  });
});
