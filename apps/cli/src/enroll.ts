import { SoriClient } from "@sori/sdk";
import type { CommandContext, OptionSpec } from "./command.ts";
import { JSON_OUTPUT, PROFILE } from "./common-options.ts";
import { readPassword } from "./password-prompt.ts";
import { openProfile } from "./profile.ts";
import { withClient } from "./session.ts";
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

/** What login and link add: waiting for another device of the account to approve this one. */
export const APPROVAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: "wait",
    type: "seconds",
    max: 3600,
    default: 600,
    summary: "how long to wait for another device to approve this one (0: do not wait)",
  },
];

const DONE: Record<EnrollMode, string> = { register: "registered", login: "logged in as", link: "linked to" };

/**
 * Makes the (empty) profile a device; the password comes from SORI_PASSWORD or a prompt. A login or
 * link then waits for another device of the account to approve it; running the same command again on
 * a profile that still waits goes on waiting.
 */
export async function enroll(ctx: CommandContext, mode: EnrollMode): Promise<number> {
  const username = ctx.arg(mode === "link" ? "code" : "username");
  if (mode !== "register" && (await resumeWaiting(ctx, mode === "login" ? username : undefined)))
    return awaitApproval(ctx, mode);
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
        ? jsonLine({
            userId: client.userId,
            username: client.username,
            deviceId: client.deviceId,
            approval: client.approval,
          })
        : `${DONE[mode]} ${esc(client.username)} (device ${esc(client.deviceId)})`,
    );
    if (client.approval === "approved") {
      if (mode === "login" && (await client.signedInAs()) === "reset-required")
        ctx.err(
          "sori: no other device of this account was signed in, so this one made a new identity key: your contacts will see that your safety number changed",
        );
      return 0;
    }
  } finally {
    profile.release();
  }
  return awaitApproval(ctx, mode);
}

/** Whether the profile holds a device of `username` that still waits for approval. */
async function resumeWaiting(ctx: CommandContext, username: string | undefined): Promise<boolean> {
  const profile = await openProfile(ctx, true);
  try {
    const client = await SoriClient.open(profile.storage).catch(() => undefined);
    if (!client || client.approval !== "pending") return false;
    return username === undefined || client.username.toLowerCase() === username.toLowerCase();
  } finally {
    profile.release();
  }
}

/**
 * Shows the approval code and waits (connected) until another device of the account approves this
 * one; with --reset-identity (login) gives the account a new identity key instead.
 */
async function awaitApproval(ctx: CommandContext, mode: EnrollMode): Promise<number> {
  const waitS = ctx.seconds("wait");
  return withClient(ctx, async (client) => {
    if (client.approval === "approved") {
      ctx.out(
        ctx.flag("json")
          ? jsonLine({ approval: "approved" })
          : "approved: this device is now part of the account",
      );
      return 0;
    }
    if (mode === "login" && ctx.flag("reset-identity")) {
      await client.resetIdentity();
      ctx.err(
        "sori: this device made a new identity key for the account; every other device was signed out, " +
          "and your contacts will see that your safety number changed",
      );
      ctx.out(
        ctx.flag("json") ? jsonLine({ approval: "approved", reset: true }) : "approved: new identity key",
      );
      return 0;
    }
    const code = (await client.approvalCode()) ?? "";
    if (ctx.flag("json")) ctx.out(jsonLine({ approval: "pending", deviceId: client.deviceId, code }));
    const how =
      mode === "link"
        ? "the device that showed the code approves it by itself once it is online"
        : `approve it on another device of ${esc(client.username)} (sori devices approve ${esc(client.deviceId)}) after checking it shows ${code}`;
    ctx.err(`sori: this device waits for approval: ${how}`);
    if (waitS === 0) return 0;
    ctx.err(`sori: waiting up to ${waitS} s (run the same command again to go on waiting)`);
    await client.waitForApproval({ timeoutMs: waitS * 1000 });
    ctx.out(
      ctx.flag("json")
        ? jsonLine({ approval: "approved" })
        : "approved: this device is now part of the account",
    );
    return 0;
  });
}
