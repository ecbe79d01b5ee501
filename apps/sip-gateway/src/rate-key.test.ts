import assert from "node:assert/strict";
import { test } from "node:test";
import { rateKey } from "./rate-key.ts";

test("IPv6 sources share a budget per /64; IPv4 (and IPv4-mapped) per address", () => {
  assert.equal(rateKey("192.0.2.7"), "192.0.2.7");
  assert.equal(rateKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(rateKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.equal(rateKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  assert.equal(rateKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(rateKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(rateKey("::1"), "0:0:0:0::/64");
  // Not an address: its own key (never merged with others).
  assert.equal(rateKey("1:2:3"), "1:2:3");
});
