import type { XmppGatewayOptions } from "@sori/xmpp-gateway";
import type { CommandContext } from "./command.ts";
import type { OptionSpec } from "./command.ts";
import { readTlsPair } from "./pem-files.ts";
import { UsageError } from "./usage-error.ts";

/** The options of `sori xmpp-gateway` for files, both ways. */
export const XMPP_FILE_OPTIONS: OptionSpec[] = [
  {
    name: "files-listen",
    type: "string",
    value: "<host>:<port>",
    summary:
      "where the gateway serves Sori files to XMPP users (HTTP, or HTTPS with --files-tls-*); none: files go as their name",
  },
  {
    name: "files-public-url",
    type: "string",
    value: "<url>",
    summary:
      "how XMPP users reach that server, e.g. https://gw.example.org/files (a TLS proxy in front, or --files-tls-*)",
  },
  {
    name: "files-tls-cert",
    type: "string",
    value: "<file>",
    summary: "the PEM certificate (chain) for HTTPS",
  },
  { name: "files-tls-key", type: "string", value: "<file>", summary: "the PEM private key for HTTPS" },
  {
    name: "files-expire-days",
    type: "string",
    value: "<days>",
    default: "7",
    summary: "how long a file's link works (1 to 365; a disappearing message's goes with it)",
  },
  {
    name: "files-max-store-mb",
    type: "string",
    value: "<MB>",
    default: "2000",
    summary: "what the served files may take on disk together; a file that does not fit goes as its name",
  },
  {
    name: "max-file-mb",
    type: "string",
    value: "<MB>",
    default: "100",
    summary:
      "the largest file fetched from an XMPP user's link (keep it at or under the server's --max-file-mb)",
  },
  {
    name: "files-fetch-private",
    type: "flag",
    summary: "also fetch XMPP users' links to loopback and private addresses (a LAN's own upload service)",
  },
];

/** The gateway's file options from the command line; usage errors for what does not fit. */
export async function parseXmppFileOptions(
  ctx: CommandContext,
): Promise<Pick<XmppGatewayOptions, "fileHosting" | "fileFetch">> {
  const maxFileMb = whole(ctx, "max-file-mb", "100", 1, 1_000_000);
  const fileFetch = {
    maxBytes: maxFileMb * 1_000_000,
    allowPrivateAddresses: ctx.flag("files-fetch-private"),
  };
  const listen = ctx.string("files-listen");
  const publicUrl = ctx.string("files-public-url");
  const certFile = ctx.string("files-tls-cert");
  const keyFile = ctx.string("files-tls-key");
  if (!listen) {
    if (publicUrl || certFile || keyFile)
      throw new UsageError("--files-public-url and --files-tls-* need --files-listen <host>:<port>");
    return { fileFetch };
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new UsageError(`--files-listen takes <host>:<port>, e.g. 127.0.0.1:8090, not ${listen}`);
  let url: URL | undefined;
  try {
    url = publicUrl ? new URL(publicUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash)
    throw new UsageError(
      "--files-listen needs --files-public-url: the http(s) URL XMPP users reach it at, e.g. https://gw.example.org/files",
    );
  if (!certFile !== !keyFile) throw new UsageError("--files-tls-cert and --files-tls-key go together");
  const tls = certFile && keyFile ? await readTlsPair(certFile, keyFile, "files TLS") : undefined;
  return {
    fileFetch,
    fileHosting: {
      host: m[1]!.replace(/^\[|\]$/g, ""),
      port,
      publicUrl: url.href,
      ...(tls ? { tls } : {}),
      linkTtlMs: whole(ctx, "files-expire-days", "7", 1, 365) * 86_400_000,
      maxBytes: whole(ctx, "files-max-store-mb", "2000", 1, 100_000_000) * 1_000_000,
    },
  };
}

function whole(ctx: CommandContext, option: string, fallback: string, min: number, max: number): number {
  const n = Number(ctx.string(option) ?? fallback);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${option} takes a whole number from ${min} to ${max}`);
  return n;
}
