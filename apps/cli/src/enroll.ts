import { SoriClient } from "@sori/sdk";
import type { CommandContext, OptionSpec } from "./command.ts";
import { JSON_OUTPUT, PROFILE } from "./common-options.ts";
import { readPassword } from "./password-prompt.ts";
import { openProfile } from "./profile.ts";
import { escapeForTerminal as esc, jsonLine } from "./terminal-escape.ts";
import { UsageError } from "./usage-error.ts";

/** How a profile becomes a device: a new account, a new device by password, or by a link code. */
export type EnrollMode = "register" | "login" | "link";

/** What register, login and link take. */
export const ENROLL_OPTIONS: readonly OptionSpec[] = [
  {
    name: "server",
    type: "string",
    value: "<url>",
    env: "SORI_SERVER",
    required: true,
    summary: "the server, e.g. http://127.0.0.1:8080",
  },
  {
    name: "name",
    type: "string",
    value: "<device-name>",
    default: "cli@<host>",
    summary: "this device's name",
  },
  {
    name: "no-passphrase",
    type: "flag",
    summary: "keep the new profile unencrypted even if a passphrase is given (bots)",
  },
  PROFILE,
  JSON_OUTPUT,
];

const DONE: Record<EnrollMode, string> = { register: "registered", login: "logged in as", link: "linked to" };

/** Makes the (empty) profile a device; the password comes from SORI_PASSWORD or a prompt. */
export async function enroll(ctx: CommandContext, mode: EnrollMode): Promise<number> {
  const username = ctx.arg(mode === "link" ? "code" : "username");
  const server = ctx.string("server")!;
  try {
    new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:8080, got "${server}"`);
  }
  const password = mode === "link" ? username : await readPassword(ctx.io, `password for ${username}: `);
  const profile = await openProfile(ctx, true);
  try {
    const options = {
      serverUrl: server,
      username,
      password,
      storage: profile.storage,
      deviceName: ctx.string("name") ?? `cli@${ctx.io.hostname}`,
    };
    const client =
      mode === "register"
        ? await SoriClient.register(options)
        : mode === "login"
          ? await SoriClient.login(options)
          : await SoriClient.linkDevice({ ...options, code: username });
    ctx.out(
      ctx.flag("json")
        ? jsonLine({ userId: client.userId, username: client.username, deviceId: client.deviceId })
        : `${DONE[mode]} ${esc(client.username)} (device ${esc(client.deviceId)})`,
    );
    return 0;
  } finally {
    profile.release();
  }
}
