import type { Command } from "../command.ts";
import { PROFILE } from "../common-options.ts";
import { withClient } from "../session.ts";

export const logoutCommand: Command = {
  name: "logout",
  summary: "revoke this device and delete its local data",
  args: [],
  options: [PROFILE],
  run: async (ctx) => {
    // Not connected: logging out is one HTTP request, and the local data is deleted anyway.
    await withClient(ctx, (c) => c.logout(), { connect: false });
    ctx.out("logged out; this device is revoked and its local data deleted");
    return 0;
  },
};
