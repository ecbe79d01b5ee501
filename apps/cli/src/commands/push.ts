import type { Command, CommandGroup } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";

const status: Command = {
  name: "status",
  summary: "whether the server sends push notifications (its VAPID key) and this device's subscription",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const s = await withClient(ctx, (c) => c.push.status());
    if (ctx.flag("json")) {
      ctx.out(jsonLine(s));
      return 0;
    }
    ctx.out(
      s.vapidPublicKey === null
        ? "push notifications: off on this server"
        : `push notifications: on (VAPID key ${esc(s.vapidPublicKey)})`,
    );
    ctx.out(
      s.subscription === null
        ? "this device: not subscribed"
        : `this device: subscribed at ${esc(s.subscription.host)} since ${new Date(s.subscription.since).toISOString()}`,
    );
    return 0;
  },
};

const unsubscribe: Command = {
  name: "unsubscribe",
  summary: "stop push notifications to this device",
  args: [],
  options: [PROFILE, JSON_OUTPUT],
  run: async (ctx) => {
    const removed = await withClient(ctx, (c) => c.push.unsubscribe());
    ctx.out(
      ctx.flag("json") ? jsonLine({ removed }) : removed ? "unsubscribed" : "this device was not subscribed",
    );
    return 0;
  },
};

export const pushCommand: CommandGroup = {
  name: "push",
  summary: "push notifications (Web Push) for this device",
  subcommands: [status, unsubscribe],
  default: status,
};
