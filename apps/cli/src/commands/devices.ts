import type { Command, CommandGroup } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { qrText } from "../qr-code.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";

const list: Command = {
  name: "list",
  summary: "this account's devices",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const { devices } = await withClient(ctx, (c) => c.devices());
    for (const d of devices) {
      ctx.out(
        ctx.flag("json")
          ? jsonLine(d)
          : `${esc(d.deviceId)}  ${esc(d.name)}${d.current ? "  (this device)" : ""}  added ${new Date(d.createdAt).toISOString()}`,
      );
    }
    return 0;
  },
};

const revoke: Command = {
  name: "revoke",
  summary: "sign out another device",
  args: [{ name: "device", usage: "<device-id>" }],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const id = ctx.arg("device");
    await withClient(ctx, (c) => c.revokeDevice(id));
    ctx.out(ctx.flag("json") ? jsonLine({ ok: true }) : `revoked ${esc(id)}`);
    return 0;
  },
};

const link: Command = {
  name: "link",
  summary: "show a code (and QR code) that signs a new device in (sori link <code> on it)",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const created = await withClient(ctx, (c) => c.createDeviceLink());
    if (ctx.flag("json")) {
      ctx.out(jsonLine(created));
      return 0;
    }
    ctx.out(
      `on the new device: sori link ${esc(created.code)} --server <this server>   (valid 10 minutes, once)`,
    );
    ctx.out(qrText(created.qr));
    return 0;
  },
};

export const devicesCommand: CommandGroup = {
  name: "devices",
  summary: "this account's devices",
  subcommands: [revoke, link],
  // `sori devices` lists; as before, words after it that name no subcommand are ignored.
  default: list,
};
