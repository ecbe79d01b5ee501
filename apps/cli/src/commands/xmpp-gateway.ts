import type { Command } from "../command.ts";
import { PROFILE } from "../common-options.ts";
import { XMPP_FILE_OPTIONS } from "../xmpp-file-options.ts";

export const xmppGatewayCommand: Command = {
  name: "xmpp-gateway",
  summary: "join an XMPP server's users to Sori chats as this profile's account; stays until Ctrl-C",
  args: [],
  options: [
    {
      name: "component-host",
      type: "string",
      value: "<host>",
      default: "127.0.0.1",
      summary: "the XMPP server's component (XEP-0114) address",
    },
    {
      name: "component-port",
      type: "string",
      value: "<port>",
      default: "5347",
      summary: "its component port",
    },
    {
      name: "domain",
      type: "string",
      value: "<domain>",
      required: true,
      summary: "the component's domain in the XMPP server's configuration: Sori's alice is alice@<domain>",
    },
    {
      name: "secret",
      type: "string",
      value: "<secret>",
      env: "SORI_XMPP_SECRET",
      required: true,
      summary: "the component secret (better from SORI_XMPP_SECRET: options show in ps)",
    },
    {
      name: "max-stanza-bytes",
      type: "string",
      value: "<bytes>",
      default: "262144",
      summary: "the largest stanza taken from the XMPP server; larger ones are refused with an error",
    },
    {
      name: "identities-dir",
      type: "string",
      value: "<dir>",
      default: "<profile>/xmpp-identities",
      summary: "where the bridged identities' keys are kept (one Sori device per XMPP address)",
    },
    ...XMPP_FILE_OPTIONS,
    PROFILE,
  ],
  notes: [
    "The profile's account is the gateway; the server must give it the xmpp namespace: sori server --bridges xmpp=<account>.",
    "An XMPP user writes to <sori-username>@<domain>; a Sori user writes to xmpp:<jid> (sori send xmpp:juliet@example.org hi).",
    "Chats are end-to-end encrypted between Sori devices and this gateway only; XMPP's side is not, and every app says so.",
    "Files are too: the gateway decrypts a Sori file to serve it at its link, and keeps it there in plain until the link expires.",
  ],
  run: async (ctx) => {
    const { runXmppGateway } = await import("../xmpp-gateway-run.ts");
    return runXmppGateway(ctx);
  },
};
