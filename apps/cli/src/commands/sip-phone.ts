import type { Command, CommandGroup } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";

const add: Command = {
  name: "add",
  summary: "make SIP credentials for a phone of yours: it rings with your devices and calls as you",
  args: [],
  options: [
    {
      name: "gateway",
      type: "string",
      value: "<username>",
      env: "SORI_SIP_GATEWAY",
      summary: "the SIP gateway's account that hosts the phone",
    },
    { name: "name", type: "string", value: "<name>", default: "phone", summary: "what to call this phone" },
    PROFILE,
    JSON_OUTPUT,
  ],
  notes: [
    "The password is shown once and kept only as digests by the gateway: copy it into the phone now.",
    "Calls to and from the phone are end-to-end encrypted only as far as the gateway.",
  ],
  run: async (ctx) => {
    const gateway = ctx.string("gateway");
    if (!gateway) {
      ctx.err("sori: say which gateway hosts the phone: --gateway <username> (or SORI_SIP_GATEWAY)");
      return 2;
    }
    const name = ctx.string("name") ?? "phone";
    ctx.err(`sori: asking ${esc(gateway)} for a line (up to 20 s)…`);
    const s = await withClient(ctx, (c) => c.phoneLines.add({ gateway, name }));
    if (ctx.flag("json")) {
      ctx.out(jsonLine(s));
      return 0;
    }
    ctx.out(`phone line "${esc(s.line.name)}" at ${esc(s.line.gateway.username)} (${esc(s.line.id)})`);
    ctx.out(`  SIP address (user@domain)  ${esc(s.aor)}`);
    ctx.out(`  registrar / proxy          ${esc(s.registrar)}`);
    ctx.out(`  auth user                  ${esc(s.authUser)}`);
    ctx.out(`  password                   ${esc(s.password)}   (shown only now)`);
    return 0;
  },
};

const list: Command = {
  name: "list",
  summary: "your phone lines",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const lines = await withClient(ctx, (c) => c.phoneLines.list());
    for (const l of lines)
      ctx.out(ctx.flag("json") ? jsonLine(l) : `${esc(l.id)}  ${esc(l.name)}  at ${esc(l.gateway.username)}`);
    if (!ctx.flag("json") && lines.length === 0) ctx.err("sori: no phone lines (sori sip-phone add)");
    return 0;
  },
};

const remove: Command = {
  name: "remove",
  summary: "revoke a phone line at once: its phone is signed out and stops ringing",
  args: [{ name: "line", usage: "<name-or-id>" }],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const removed = await withClient(ctx, (c) => c.phoneLines.remove(ctx.arg("line")));
    ctx.out(ctx.flag("json") ? jsonLine({ removed }) : `removed phone line "${esc(removed.name)}"`);
    return 0;
  },
};

export const sipPhoneCommand: CommandGroup = {
  name: "sip-phone",
  summary: "your own SIP phones (desk phone, softphone) as one of your devices, through a SIP gateway",
  subcommands: [add, remove],
  default: list,
};
