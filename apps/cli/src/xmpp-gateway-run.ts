import { join } from "node:path";
import { createLogger } from "@sori/server";
import { startXmppGateway } from "@sori/xmpp-gateway";
import { untilInterrupted } from "./cli-io.ts";
import type { CommandContext } from "./command.ts";
import { profileDir } from "./profile.ts";
import { withClient } from "./session.ts";
import { UsageError } from "./usage-error.ts";
import { parseXmppFileOptions } from "./xmpp-file-options.ts";

/** `sori xmpp-gateway`: runs the XMPP component as the profile's account until interrupted. */
export async function runXmppGateway(ctx: CommandContext): Promise<number> {
  const host = ctx.string("component-host") ?? "127.0.0.1";
  const port = Number(ctx.string("component-port") ?? "5347");
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new UsageError("--component-port takes a port number from 1 to 65535");
  const domain = (ctx.string("domain") ?? "").toLowerCase();
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain) || domain.length > 253)
    throw new UsageError(`--domain takes the component's domain name, not ${domain}`);
  const secret = ctx.string("secret") ?? "";
  if (secret.length < 8) throw new UsageError("--secret (or SORI_XMPP_SECRET) needs at least 8 characters");
  const maxStanzaBytes = Number(ctx.string("max-stanza-bytes") ?? "262144");
  if (!Number.isInteger(maxStanzaBytes) || maxStanzaBytes < 4096 || maxStanzaBytes > 16 * 1024 * 1024)
    throw new UsageError("--max-stanza-bytes takes a number of bytes from 4096 to 16777216");
  const dataDir = ctx.string("identities-dir") ?? join(profileDir(ctx), "xmpp-identities");
  const files = await parseXmppFileOptions(ctx);
  return withClient(ctx, async (client) => {
    if (client.approval !== "approved")
      throw new UsageError("this device waits for approval by another device of the account");
    const gateway = await startXmppGateway({
      client,
      service: `xmpp://${host.includes(":") ? `[${host}]` : host}:${port}`,
      domain,
      secret,
      dataDir,
      maxStanzaBytes,
      ...files,
      // JSON lines on stderr: events and counts only, never message text or addresses.
      log: createLogger("info", (line) => process.stderr.write(line)),
    });
    ctx.err(`sori: XMPP gateway for ${client.username} as ${domain}, component ${host}:${port}`);
    if (files.fileHosting) ctx.err(`sori: files served at ${files.fileHosting.publicUrl}`);
    await untilInterrupted(ctx.io);
    await gateway.stop();
    return 0;
  });
}
