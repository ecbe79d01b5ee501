import { SoriClient } from "@sori/sdk";
import type { CommandContext } from "./command.ts";
import { openProfile } from "./profile.ts";
import { escapeForTerminal } from "./terminal-escape.ts";

export type SessionOptions = {
  /** false: `fn` gets the client unconnected (it sets up calls first, or only logs out). */
  connect?: boolean;
};

/** Opens the profile's client, connects, runs `fn`, and always disconnects and releases the profile. */
export async function withClient<T>(
  ctx: CommandContext,
  fn: (client: SoriClient) => Promise<T>,
  options: SessionOptions = {},
): Promise<T> {
  const profile = await openProfile(ctx);
  try {
    const client = await SoriClient.open(profile.storage);
    client.on("warning", (w) => ctx.err(`sori: warning: ${escapeForTerminal(w.message)}`));
    announceAccountEvents(ctx, client);
    try {
      // A failed connect still closes: otherwise the transport's reconnect timer keeps the process alive.
      if (options.connect !== false) await client.connect();
      return await fn(client);
    } finally {
      await client.close();
    }
  } finally {
    profile.release();
  }
}

/** What a person must hear of while any command runs: sign-ins to approve, new devices, key changes. */
function announceAccountEvents(ctx: CommandContext, client: SoriClient): void {
  const esc = escapeForTerminal;
  client.on("device-approval", (r) =>
    ctx.err(
      `sori: ${esc(r.name)} (${esc(r.deviceId)}) signed in to your account at ${new Date(r.createdAt).toISOString()} and waits for approval; ` +
        `if it shows the code ${r.code}: sori devices approve ${esc(r.deviceId)}, else sori devices reject ${esc(r.deviceId)}`,
    ),
  );
  client.on("own-device", (d) =>
    ctx.err(
      `sori: a new device, ${esc(d.name)} (${esc(d.deviceId)}), was added to your account; if it is not yours: sori devices revoke ${esc(d.deviceId)}, then sori password`,
    ),
  );
  client.on("safety", (s) =>
    ctx.err(
      `sori: ${esc(s.username)}'s safety number changed or was accepted; see sori safety-number ${esc(s.username)}`,
    ),
  );
}
