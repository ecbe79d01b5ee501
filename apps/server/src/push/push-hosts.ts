import { isIP } from "node:net";
import { ProtocolError } from "@sori/protocol";
import { isPrivateAddress } from "../private-address.ts";

/**
 * The push services of the big browsers: Chrome, Edge's Android and Chromium relatives (FCM), Firefox
 * (Mozilla autopush), Safari (Apple) and Edge on Windows (WNS). `*.` matches any subdomain, not the
 * domain itself.
 */
export const DEFAULT_PUSH_HOSTS: readonly string[] = [
  "fcm.googleapis.com",
  "updates.push.services.mozilla.com",
  "*.push.services.mozilla.com",
  "web.push.apple.com",
  "*.push.apple.com",
  "*.notify.windows.com",
];

/**
 * Which endpoints the server sends pushes to. The server makes requests to URLs its users chose, so
 * by default only to the big push services; `any` (UnifiedPush self-hosters) takes any public host
 * but never a private, loopback or link-local address, checked again at every connection
 * (privateAddressCheck) so a name cannot be pointed at one later. Plain http only with
 * `loopbackHttp` (tests and development: a mock push service on 127.0.0.1).
 */
export type PushHostPolicy = {
  hosts: "off" | "any" | readonly string[];
  loopbackHttp: boolean;
};

const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A `--push-hosts` entry as typed (lower case), or undefined when it is no host name, pattern or address. */
export function pushHostEntry(text: string): string | undefined {
  const entry = text.trim().toLowerCase();
  const bare = entry.startsWith("[") && entry.endsWith("]") ? entry.slice(1, -1) : entry;
  if (isIP(bare) !== 0) return bare;
  return HOST_PATTERN.test(entry) ? entry : undefined;
}

const matches = (host: string, entry: string): boolean =>
  entry.startsWith("*.") ? host.endsWith(entry.slice(1)) : host === entry;

const isLoopback = (host: string): boolean =>
  host === "localhost" || (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";

/** The URL's host as the policy compares it: lower case, without an IPv6 literal's brackets. */
export function endpointHost(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith("[") ? h.slice(1, -1) : h;
}

/**
 * Checks a subscription's endpoint against the operator's policy; throws the ProtocolError the device
 * is told (nothing is stored then). Returns the parsed URL.
 */
export function checkEndpoint(endpoint: string, policy: PushHostPolicy): URL {
  if (policy.hosts === "off")
    throw new ProtocolError("forbidden", "push notifications are switched off on this server");
  const url = new URL(endpoint);
  const host = endpointHost(url);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.loopbackHttp && isLoopback(host)))
    throw new ProtocolError("bad-request", "a push endpoint must be an https URL");
  if (policy.hosts === "any") {
    if (isLoopback(host) && policy.loopbackHttp) return url;
    if (isPrivateAddress(host) || host === "localhost" || host.endsWith(".localhost"))
      throw new ProtocolError(
        "forbidden",
        `push endpoint host "${host}" is a private address: the operator must list it in --push-hosts`,
      );
    return url;
  }
  if (!policy.hosts.some((entry) => matches(host, entry)))
    throw new ProtocolError(
      "forbidden",
      `push endpoint host "${host}" is not allowed on this server (allowed: ${policy.hosts.join(", ")})`,
    );
  return url;
}
