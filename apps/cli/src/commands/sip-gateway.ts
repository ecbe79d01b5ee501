import type { Command } from "../command.ts";
import { PROFILE } from "../common-options.ts";

export const sipGatewayCommand: Command = {
  name: "sip-gateway",
  summary: "bridge phones (SIP) into Sori calls as this profile's account; stays until Ctrl-C",
  args: [],
  options: [
    {
      name: "listen",
      type: "string",
      value: "<udp|tcp|tls>:<host>:<port>[,…]",
      default: "udp:127.0.0.1:5060",
      summary:
        "where SIP arrives, one listener per transport, e.g. udp:0.0.0.0:5060,tcp:0.0.0.0:5060,tls:0.0.0.0:5061",
    },
    {
      name: "sip-tls-cert",
      type: "string",
      value: "<file>",
      summary: "the PEM certificate (chain) of a tls: listener",
    },
    {
      name: "sip-tls-key",
      type: "string",
      value: "<file>",
      summary: "the PEM private key of a tls: listener",
    },
    {
      name: "sip-tls-ca",
      type: "string",
      value: "<file>",
      summary:
        "PEM CA certificates trusted besides the system's for the gateway's TLS calls out (a sips: trunk)",
    },
    {
      name: "media-address",
      type: "string",
      value: "<ip>",
      default: "the --listen host",
      summary: "the address phones send RTP to (written into SDP); set it when listening on 0.0.0.0",
    },
    {
      name: "rtp-ports",
      type: "string",
      value: "<min>-<max>",
      default: "40000-40999",
      summary: "UDP ports for the phones' media, one even port per call",
    },
    {
      name: "ring-timeout",
      type: "seconds",
      max: 300,
      default: 45,
      summary: "how long a Sori user's devices ring before the phone hears 480",
    },
    {
      name: "outbound",
      type: "string",
      value: "all|none|<user>,<user>",
      default: "none",
      summary: "who may call phones through the gateway (toll fraud: allow only whom you trust)",
    },
    {
      name: "invites-per-second",
      type: "string",
      value: "<n>",
      default: "2",
      summary: "new calls per second from one address (a burst of 5×, at least 10); raise it for a trunk",
    },
    {
      name: "sip-trunk",
      type: "string",
      value: "sip:<host>[:<port>]",
      summary: "a SIP trunk to the phone network: calls to numbers (tel:) go there",
    },
    {
      name: "sip-trunk-user",
      type: "string",
      value: "<user>",
      summary: "the trunk account's digest user (the password comes from SORI_SIP_TRUNK_PASSWORD)",
    },
    {
      name: "sip-trunk-caller-id",
      type: "string",
      value: "<number>",
      default: "the trunk user",
      summary: "the From user on calls out through the trunk",
    },
    {
      name: "sip-trunk-inbound",
      type: "string",
      value: "<number>=<user>[,…]",
      summary: "which Sori user a call from the trunk to each number rings",
    },
    {
      name: "phone-lines",
      type: "string",
      value: "all|none|<user>,<user>",
      default: "all",
      summary: "who may register their own phone here (sori sip-phone add)",
    },
    {
      name: "sip-digest",
      type: "string",
      value: "sha-256,md5|md5,sha-256|sha-256|md5",
      default: "sha-256,md5",
      summary: "digest algorithms offered to phones, preferred first (some old phones need md5 alone)",
    },
    {
      name: "sip-domain",
      type: "string",
      value: "<host>[,<host>]",
      summary: "host names phones use for this gateway, besides its addresses",
    },
    {
      name: "lines-file",
      type: "string",
      value: "<path>",
      default: "<profile>/sip-lines.json",
      summary: "where hosted phone lines (password digests) and registrations are kept, mode 0600",
    },
    { name: "loopback", type: "flag", summary: "use 127.0.0.1 for the Sori side's media only (tests)" },
    PROFILE,
  ],
  notes: [
    "The profile's account is the gateway: register one for it (sori register phone --profile ./gw).",
    "A phone dials sip:<username>@<host>:<port> to ring that Sori user on every device; a Sori user",
    "allowed by --outbound calls a phone with: sori call sip:carol@host:port --gateway <this account>. Only the",
    "leg between the gateway and the Sori devices is end-to-end encrypted; every UI says so.",
    "A Sori user's own phone: sori sip-phone add --gateway <this account> prints what it registers with.",
    "With --sip-trunk, allowed users call numbers: sori call tel:+821012345678 --gateway <this account>.",
  ],
  run: async (ctx) => {
    // Loaded only here: the SIP stack and werift are not needed by any other command.
    const { runSipGateway } = await import("../calls/sip-gateway-run.ts");
    return runSipGateway(ctx);
  },
};
