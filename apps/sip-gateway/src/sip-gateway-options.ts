import type { SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import type { PortRange } from "./media/phone-rtp.ts";
import type { ConnectionLimits } from "./transport/connection-registry.ts";
import type { SipListen } from "./transport/sip-transports.ts";

export type SipGatewayOptions = {
  /** The gateway's own Sori device, opened (approved) and connected. */
  client: SoriClient;
  /**
   * Where SIP arrives: UDP, TCP and TLS listeners (port 0: any free port). A single
   * `{address, port}` is one UDP listener, as before TCP and TLS were added.
   */
  listen: { address: string; port: number } | readonly SipListen[];
  /** PEM certificate (chain) and private key: needed by a tls listener. */
  tls?: { cert: string; key: string };
  /**
   * PEM CA certificates that the gateway's own TLS connections (a `sips:` trunk or phone) trust besides
   * Node's: for a trunk whose certificate a private CA signed. The peer's name is checked either way.
   */
  tlsTrust?: string;
  /** Caps on TCP/TLS connections and their idle time (defaults: 1024, 64 per address, 150 s). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** The address phones reach the gateway's media at (also written into SDP and Contact). */
  mediaAddress: string;
  rtpPorts: PortRange;
  /** How long a Sori user's devices ring before the phone hears 480 (default 45 s). */
  ringTimeoutMs?: number;
  /** A call whose phone sends no RTP for this long is ended on both sides (default 30 s). */
  rtpTimeoutMs?: number;
  /** Calls at once (default 200). */
  maxCalls?: number;
  /** INVITEs per source address: a burst, then per second (default 10, then 2/s). */
  inviteBurst?: number;
  invitesPerSecond?: number;
  /**
   * Who may call phones through the gateway: "none" (the default: an open gateway is the first
   * thing toll fraud looks for), "all", or these Sori usernames.
   */
  outbound?: "all" | "none" | readonly string[];
  /** ICE candidates on 127.0.0.1 only (tests). */
  loopback?: boolean;
  /** Where hosted phone lines and their registrations are kept, mode 0600 (absent: in memory only). */
  linesFile?: string;
  /** The digest realm phones authenticate in (default "sori"; changing it invalidates every line). */
  realm?: string;
  /** Host names phones use for the gateway besides its addresses: Request-URIs there are Sori users. */
  domains?: readonly string[];
  /**
   * A SIP trunk to the phone network: numbers (`tel:` in a call's `via`) are INVITEd there, answering
   * its digest challenge with these credentials. `inbound` maps the trunk's numbers to Sori usernames.
   */
  trunk?: {
    uri: string;
    username?: string;
    password?: string;
    /** The From user on calls out through the trunk (the account's number); default `username`. */
    callerId?: string;
    inbound?: Readonly<Record<string, string>>;
  };
  /** Digest algorithms offered to phones, most preferred first (default SHA-256 then MD5, RFC 8760). */
  digestAlgorithms?: readonly ("SHA-256" | "MD5")[];
  /** Who may host their own phone here (sori sip-phone add): "all" (the default), "none", usernames. */
  phoneLines?: "all" | "none" | readonly string[];
  log: Logger;
};

export type SipGatewayStats = {
  callsActive: number;
  callsTotal: number;
  parseErrors: number;
  rateLimited: number;
  /** RTP packets from strangers, dropped. */
  rtpDropped: number;
  /** Phone lines hosted, and live registrations of their phones. */
  lines: number;
  registrations: number;
  /** Requests whose digest credentials were wrong (unknown user or wrong password alike). */
  authFailures: number;
  /** Open TCP and TLS connections, and those refused by the caps. */
  connections: number;
  connectionsRefused: number;
};

export type SipGateway = {
  /** The UDP port SIP listens on (without a UDP listener: the first listener's port). */
  readonly port: number;
  /** The bound port of each transport listened on. */
  readonly ports: { readonly udp?: number; readonly tcp?: number; readonly tls?: number };
  stats(): SipGatewayStats;
  stop(): Promise<void>;
};
