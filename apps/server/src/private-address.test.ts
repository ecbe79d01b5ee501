import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPrivateAddress } from "./private-address.ts";

describe("isPrivateAddress", () => {
  it("knows which addresses are not on the internet, IPv4 in IPv6 form too", () => {
    for (const a of [
      "10.1.2.3",
      "172.16.0.1",
      "192.168.9.9",
      "127.0.0.53",
      "0.0.0.0",
      "100.64.1.1",
      "::1",
      "fe80::1",
      "fc00::2",
      "::ffff:10.0.0.1",
      "127.0.0.1",
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "fd00::1",
      "::ffff:7f00:1",
      "64:ff9b::a00:1",
    ])
      assert.equal(isPrivateAddress(a), true, a);
    for (const a of [
      "8.8.8.8",
      "172.32.0.1",
      "2606:4700::1111",
      "::ffff:8.8.8.8",
      "93.184.216.34",
      "::ffff:808:808",
    ])
      assert.equal(isPrivateAddress(a), false, a);
  });

  it("says false for what is not an address (names are checked where they resolve)", () => {
    assert.equal(isPrivateAddress("localhost"), false);
    assert.equal(isPrivateAddress(""), false);
  });
});
