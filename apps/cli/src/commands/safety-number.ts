import type { Command } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { qrText } from "../qr-code.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";

export const safetyNumberCommand: Command = {
  name: "safety-number",
  summary: "the safety number with a contact, to compare in person",
  args: [{ name: "username", usage: "<username>" }],
  options: [
    { name: "qr", type: "flag", summary: "also show it as a QR code" },
    {
      name: "verify",
      type: "flag",
      summary: "mark it verified (after comparing); after a change, accepts it",
    },
    {
      name: "accept",
      type: "flag",
      summary: "accept their new identity key after a change (without verifying): sending works again",
    },
    PROFILE,
    JSON_OUTPUT,
  ],
  run: async (ctx) => {
    const username = ctx.arg("username");
    const sn = await withClient(ctx, async (c) => {
      if (ctx.flag("verify")) await c.setVerified(username, true);
      else if (ctx.flag("accept")) await c.acceptSafetyNumberChange(username);
      return c.safetyNumber(username);
    });
    if (ctx.flag("json")) {
      ctx.out(
        jsonLine({
          username: sn.username,
          digits: sn.digits,
          qr: sn.qr,
          verified: sn.verified,
          changed: sn.changed,
        }),
      );
      return 0;
    }
    for (let i = 0; i < 12; i += 4) ctx.out(sn.groups.slice(i, i + 4).join(" "));
    const who = esc(sn.username);
    if (sn.changed)
      ctx.out(
        `changed: ${who}'s identity key changed; nothing is sent to them until you accept it: compare this number with ${who}, then sori safety-number ${who} --verify (or --accept)`,
      );
    ctx.out(
      sn.verified
        ? `verified: yes`
        : `verified: no (compare with ${who}, then sori safety-number ${who} --verify)`,
    );
    if (ctx.flag("qr")) ctx.out(qrText(sn.qr));
    return 0;
  },
};
