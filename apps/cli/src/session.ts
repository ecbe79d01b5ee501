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
