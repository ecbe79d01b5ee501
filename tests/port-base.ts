/**
 * The first of a block of fixed ports for one test file's SIP peers (baresip and sipp need ports known
 * before they start). Every block is below 32768, where Linux picks no ephemeral ports (its range is
 * 32768–60999), so no outgoing connection of another test can take one; and every file has a slot of
 * its own, so two files running at once never share a port. A block is 8 × (pid % 250) + 8 ports
 * into the slot's 2,000, so a file run twice at once (rare) most likely differs too.
 */
export function portBase(slot: PortSlot): number {
  return 10_000 + SLOTS.indexOf(slot) * 2_000 + (process.pid % 248) * 8;
}

const SLOTS = [
  "sip-gateway",
  "sip-gateway-cli",
  "sip-gateway-load",
  "sip-gateway-tcp",
  "sip-phone-line",
  "browser-sip-phone-call",
  "browser-web-phone-lines",
  "browser-web-dialer",
  "browser-web-dtmf",
] as const;
export type PortSlot = (typeof SLOTS)[number];
