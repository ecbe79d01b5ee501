import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  approvalCode,
  fullLinkCode,
  linkProof,
  newLinkSecret,
  sameProof,
  splitLinkCode,
} from "./approval-codes.ts";

const bytes = (n: number, len = 32): Uint8Array => new Uint8Array(len).fill(n);

describe("approval codes and link secrets", () => {
  const device = { userId: "u-aaaaaaaaaaaaaaaaaaaaa", deviceId: "d-bbbbbbbbbbbbbbbbbbbbb" };

  it("show twelve digits that change with any key the new device or the account has", async () => {
    const code = await approvalCode(device, bytes(1), bytes(2), bytes(3));
    assert.match(code, /^\d{4} \d{4} \d{4}$/);
    assert.equal(await approvalCode(device, bytes(1), bytes(2), bytes(3)), code, "the same on both devices");
    for (const other of [
      await approvalCode(device, bytes(9), bytes(2), bytes(3)),
      await approvalCode(device, bytes(1), bytes(9), bytes(3)),
      await approvalCode(device, bytes(1), bytes(2), bytes(9)),
      await approvalCode({ ...device, deviceId: "d-ccccccccccccccccccccc" }, bytes(1), bytes(2), bytes(3)),
    ])
      assert.notEqual(other, code);
  });

  it("split a typed or scanned link code into the server's half and the secret, whatever the case and dashes", () => {
    const secret = newLinkSecret();
    assert.match(secret, /^[A-Z0-9]{10}$/);
    const code = fullLinkCode("ABCDE-FGHJK", secret);
    assert.match(code, /^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/);
    assert.deepEqual(splitLinkCode(code.toLowerCase().replace(/-/g, " ")), {
      serverCode: "ABCDE-FGHJK",
      secret,
    });
    assert.equal(splitLinkCode("ABCDE-FGHJK"), undefined, "a code of the old, server-only kind is refused");
  });

  it("prove knowledge of the secret over exactly these keys", async () => {
    const proof = await linkProof("SECRETSECR", bytes(1), bytes(2));
    assert.equal(sameProof(proof, await linkProof("secretsecr", bytes(1), bytes(2))), true);
    assert.equal(sameProof(proof, await linkProof("SECRETSECZ", bytes(1), bytes(2))), false);
    assert.equal(
      sameProof(proof, await linkProof("SECRETSECR", bytes(1), bytes(3))),
      false,
      "another device's keys",
    );
    assert.equal(sameProof(proof, proof.subarray(1)), false);
  });
});
