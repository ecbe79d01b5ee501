import type { SoriClient } from "@sori/sdk";
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
          : `${esc(d.deviceId)}  ${esc(d.name)}${d.current ? "  (this device)" : ""}${d.state === "pending" ? "  (waits for approval)" : ""}  added ${new Date(d.createdAt).toISOString()}`,
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
  options: [
    {
      name: "wait",
      type: "seconds",
      max: 600,
      default: 600,
      summary: "stay online this long for the new device to sign in, to approve it (0: do not wait)",
    },
    PROFILE,
    JSON_OUTPUT,
  ],
  run: async (ctx) => {
    const waitS = ctx.seconds("wait");
    return withClient(ctx, async (client) => {
      const created = await client.createDeviceLink();
      if (ctx.flag("json")) ctx.out(jsonLine(created));
      else {
        ctx.out(
          `on the new device: sori link ${esc(created.code)} --server <this server>   (valid 10 minutes, once)`,
        );
        ctx.out(qrText(created.qr));
      }
      // This device approves the new one (the code's second half proves it read the code): it stays
      // online until the new device signed in.
      if (waitS === 0) return 0;
      ctx.err(`sori: waiting up to ${waitS} s for the new device (it is approved as soon as it signs in)`);
      const linked = await waitForLinked(client, waitS * 1000);
      if (!linked) {
        ctx.err("sori: no device used the code in time");
        return 1;
      }
      ctx.out(
        ctx.flag("json") ? jsonLine({ linked }) : `linked ${esc(linked.name)} (${esc(linked.deviceId)})`,
      );
      return 0;
    });
  },
};

const pending: Command = {
  name: "pending",
  summary: "devices that signed in to this account and wait for approval, with the code each shows",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const waiting = await withClient(ctx, (c) => c.pendingDevices());
    for (const d of waiting) {
      ctx.out(
        ctx.flag("json")
          ? jsonLine(d)
          : `${esc(d.deviceId)}  ${esc(d.name)}  signed in ${new Date(d.createdAt).toISOString()}  code ${d.code}`,
      );
    }
    if (!ctx.flag("json") && waiting.length === 0) ctx.err("sori: no device waits for approval");
    return 0;
  },
};

const approve: Command = {
  name: "approve",
  summary: "approve a waiting device (only if it shows the same code): it becomes part of the account",
  args: [{ name: "device", usage: "<device-id>" }],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const id = ctx.arg("device");
    await withClient(ctx, (c) => c.approveDevice(id));
    ctx.out(ctx.flag("json") ? jsonLine({ ok: true }) : `approved ${esc(id)}`);
    return 0;
  },
};

const reject: Command = {
  name: "reject",
  summary: "refuse a waiting device: it is signed out (then change the password if it was not you)",
  args: [{ name: "device", usage: "<device-id>" }],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const id = ctx.arg("device");
    await withClient(ctx, (c) => c.rejectDevice(id));
    ctx.out(ctx.flag("json") ? jsonLine({ ok: true }) : `rejected ${esc(id)}`);
    return 0;
  },
};

export const devicesCommand: CommandGroup = {
  name: "devices",
  summary: "this account's devices",
  subcommands: [revoke, link, pending, approve, reject],
  // `sori devices` lists; as before, words after it that name no subcommand are ignored.
  default: list,
};

/** Resolves with the device this one linked (its "own-device" event), or undefined after `timeoutMs`. */
function waitForLinked(
  client: SoriClient,
  timeoutMs: number,
): Promise<{ deviceId: string; name: string } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(undefined);
    }, timeoutMs);
    const off = client.on("own-device", (d) => {
      clearTimeout(timer);
      off();
      resolve(d);
    });
  });
}
