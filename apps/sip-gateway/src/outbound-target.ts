import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { normalizeNumber } from "./phone-number.ts";
import { SipGatewayConfigError } from "./sip-gateway-config-error.ts";
import type { SipGatewayOptions } from "./sip-gateway-options.ts";
import { transportOf } from "./sip/dialog-ids.ts";
import type { SipSource } from "./sip/sip-format.ts";
import { formatUri, parseSipUri, type SipUri } from "./sip/sip-message.ts";

/** Where the gateway's INVITE for a call out goes, and as whom. */
export type DialTarget = {
  uri: string;
  to: string;
  destination: SipSource;
  /** The From address (a trunk's account), else the caller at the gateway. */
  from?: { user: string; host: string };
  /** Answer a 401/407 once with these (a trunk). */
  credentials?: { username: string; password: string };
};

/** Why no INVITE goes out (the caller hears "unreachable"; the reason is for the log). */
export type NoTarget = { refused: "no-trunk" | "bad-number" | "bad-uri" | "unresolvable" };

/** The gateway's trunk, parsed once at start: its URI and the numbers it brings in. */
export class Trunk {
  readonly uri: SipUri;
  readonly #options: NonNullable<SipGatewayOptions["trunk"]>;
  readonly #inbound: Map<string, string>;

  constructor(options: NonNullable<SipGatewayOptions["trunk"]>) {
    const uri = parseSipUri(options.uri);
    if (!uri)
      throw new SipGatewayConfigError(
        `the trunk must be a sip: or sips: URI (sip:host[:port][;transport=tcp|tls]), not ${options.uri}`,
      );
    this.uri = uri;
    this.#options = options;
    this.#inbound = new Map(
      Object.entries(options.inbound ?? {}).map(([n, u]) => [normalizeNumber(n) ?? n, u] as const),
    );
  }

  /** The Sori username a call from the trunk to `dialled` rings (--sip-trunk-inbound), if mapped. */
  userFor(dialled: string): string | undefined {
    return this.#inbound.get(normalizeNumber(dialled) ?? dialled);
  }

  /** The INVITE for `number` (already normalized) through this trunk, from its account. */
  target(number: string, address: string): DialTarget {
    const { host, port, scheme } = this.uri;
    const transport = transportOf(this.uri);
    // "#" is not allowed in a SIP URI's user part (RFC 3261 §25.1): escaped.
    const uri = `${scheme}:${number.replace(/#/g, "%23")}@${host}${port ? `:${port}` : ""}`;
    const { username, password, callerId } = this.#options;
    return {
      uri,
      to: `<${uri}>`,
      destination: { address, ...destinationOf(host, port, transport) },
      from: { user: callerId ?? username ?? "sori", host },
      ...(username && password ? { credentials: { username, password } } : {}),
    };
  }
}

/** Where a Sori user's call to `address` (a `via` URI: sip:, sips: or tel:) goes out. */
export async function outboundTarget(
  address: string,
  trunk: Trunk | undefined,
): Promise<DialTarget | NoTarget> {
  if (address.toLowerCase().startsWith("tel:")) {
    if (!trunk) return { refused: "no-trunk" };
    const number = normalizeNumber(address.slice(4));
    if (number === undefined) return { refused: "bad-number" };
    const resolved = await resolve(trunk.uri.host);
    return resolved ? trunk.target(number, resolved) : { refused: "unresolvable" };
  }
  const target = parseSipUri(address);
  if (!target) return { refused: "bad-uri" };
  const resolved = await resolve(target.host);
  if (!resolved) return { refused: "unresolvable" };
  // The transport parameter stays in the Request-URI: the phone may route on it.
  const transport = transportOf(target);
  const uri = formatUri({
    ...target,
    params: target.params.transport ? { transport: target.params.transport } : {},
  });
  return {
    uri,
    to: `<${uri}>`,
    destination: { address: resolved, ...destinationOf(target.host, target.port, transport) },
  };
}

/** Port and transport of a URI's host, with the name its TLS certificate must show (RFC 5922). */
function destinationOf(
  host: string,
  port: number | undefined,
  transport: DialTarget["destination"]["transport"],
): Omit<DialTarget["destination"], "address"> {
  return {
    port: port ?? (transport === "TLS" ? 5061 : 5060),
    transport,
    ...(transport === "TLS" && isIP(host.replace(/^\[|\]$/g, "")) === 0 ? { serverName: host } : {}),
  };
}

function resolve(host: string): Promise<string | undefined> {
  return lookup(host).then(
    (r) => r.address,
    () => undefined,
  );
}
