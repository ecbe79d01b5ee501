import { BlockList, isIP } from "node:net";

/**
 * Addresses not on the internet: loopback, private, link-local, CGNAT, multicast, reserved. Two lists:
 * a BlockList matches IPv4 addresses against IPv6 rules too (as IPv4-mapped ones).
 */
const PRIVATE_V4 = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const)
  PRIVATE_V4.addSubnet(net, bits, "ipv4");
const PRIVATE_V6 = new BlockList();
for (const [net, bits] of [
  ["::", 127],
  // IPv4-mapped forms other than ::ffff:a.b.c.d and ::ffff:xxxx:xxxx (read below), and NAT64.
  ["::ffff:0:0", 96],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  PRIVATE_V6.addSubnet(net, bits, "ipv6");

/**
 * Whether an IP address is private, loopback, link-local, multicast or otherwise not on the internet:
 * what the server (a push endpoint) and the gateways (a file link) never reach for a user's URL
 * unless the operator allowed it. IPv4 in IPv6 form, dotted or hex (URLs write ::ffff:127.0.0.1 as
 * ::ffff:7f00:1), is checked as IPv4. Not an IP address at all: false (check names where they resolve).
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE_V4.check(address, "ipv4");
  if (family !== 6) return false;
  // An IPv4 address in IPv6 form (URLs write ::ffff:127.0.0.1 as ::ffff:7f00:1) is checked as one.
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (mapped?.[1]) return PRIVATE_V4.check(mapped[1], "ipv4");
  if (mapped?.[2] && mapped[3]) {
    const [hi, lo] = [parseInt(mapped[2], 16), parseInt(mapped[3], 16)];
    return PRIVATE_V4.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, "ipv4");
  }
  return PRIVATE_V6.check(address, "ipv6");
}
