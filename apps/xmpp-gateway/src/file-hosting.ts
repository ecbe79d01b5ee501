import { createHash } from "node:crypto";
import { join } from "node:path";
import { type ChatMessage, SdkError, type SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import { type FileServer, startFileServer } from "./file-server.ts";
import { HostedFiles, HostingError } from "./hosted-files.ts";

/** How long a link works unless the message disappears sooner. */
const DEFAULT_LINK_TTL_MS = 7 * 24 * 3600_000;
/** What the hosted files may take on disk together. */
const DEFAULT_MAX_HOSTED_BYTES = 2_000_000_000;
/** How often expired files are removed. */
const SWEEP_MS = 10 * 60_000;

/** Sori → XMPP files: where the gateway serves them and for how long. */
export type FileHostingOptions = {
  /** Where its HTTP(S) server listens. */
  host: string;
  port: number;
  /** What links start with, as XMPP users reach the server (e.g. https://gw.example.org/files). */
  publicUrl: string;
  /** PEM certificate chain and key: the server speaks HTTPS itself. */
  tls?: { cert: string; key: string };
  /** How long a link works (default 7 days); never longer than a disappearing message lives. */
  linkTtlMs?: number;
  /** The most the hosted files may take on disk (default 2 GB); a file that does not fit is refused. */
  maxBytes?: number;
};

/** A Sori file message as XMPP gets it: a link, "failed" (for good: text instead), or "later". */
export type FileLink =
  { kind: "link"; url: string } | { kind: "failed"; reason: string } | { kind: "later"; reason: string };

/**
 * Re-hosts Sori attachments for XMPP: the bridged identity downloads and decrypts a file message
 * through the SDK, and the plaintext is served at an unguessable link that expires (hosted-files.ts,
 * file-server.ts). The gateway thus holds the plaintext, as it reads the text of every bridged chat.
 * One copy per Sori message, however many identities (a group's XMPP members) pass it on.
 */
export class FileHosting {
  readonly #files: HostedFiles;
  readonly #server: FileServer;
  readonly #publicUrl: string;
  readonly #ttlMs: number;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  readonly #pending = new Map<string, Promise<FileLink>>();

  private constructor(files: HostedFiles, server: FileServer, o: FileHostingOptions, log: Logger) {
    this.#files = files;
    this.#server = server;
    this.#publicUrl = o.publicUrl.replace(/\/+$/, "");
    this.#ttlMs = o.linkTtlMs ?? DEFAULT_LINK_TTL_MS;
    this.#log = log;
    this.#timer = setInterval(() => {
      void files.sweep().catch((error: unknown) => {
        log.warn("xmpp.hosted_files_sweep_failed", { reason: (error as Error).name });
      });
    }, SWEEP_MS);
    this.#timer.unref();
  }

  /** Opens the store in `<dataDir>/hosted-files` and starts the server. */
  static async start(dataDir: string, o: FileHostingOptions, log: Logger): Promise<FileHosting> {
    const files = await HostedFiles.open(join(dataDir, "hosted-files"), {
      maxBytes: o.maxBytes ?? DEFAULT_MAX_HOSTED_BYTES,
      log,
    });
    const server = await startFileServer({
      files,
      host: o.host,
      port: o.port,
      ...(o.tls ? { tls: o.tls } : {}),
      basePath: new URL(o.publicUrl).pathname,
      log,
    });
    log.info("xmpp.file_server_listening", { port: server.port, tls: o.tls !== undefined });
    return new FileHosting(files, server, o, log);
  }

  /** The port the server listens on (the one asked for, or the one the system chose for 0). */
  get port(): number {
    return this.#server.port;
  }

  /** Whether a message's file is hosted (and its link unexpired). */
  hosts(chat: string, messageId: string): boolean {
    return this.#files.byKey(keyOf(chat, messageId)) !== undefined;
  }

  /** The link of a file message `client` received (downloading it once; again: the same link). */
  link(client: SoriClient, m: ChatMessage): Promise<FileLink> {
    const key = keyOf(m.chat, m.id);
    const running = this.#pending.get(key);
    if (running) return running;
    const run = this.#link(client, m, key).finally(() => this.#pending.delete(key));
    this.#pending.set(key, run);
    return run;
  }

  /** A message was deleted: its link stops working at once. */
  async forget(chat: string, messageId: string): Promise<void> {
    if (await this.#files.remove(keyOf(chat, messageId))) this.#log.info("xmpp.hosted_file_removed", {});
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#pending.values()]);
    await this.#server.close();
  }

  async #link(client: SoriClient, m: ChatMessage, key: string): Promise<FileLink> {
    if (m.deleted || m.kind !== "file") return { kind: "failed", reason: "not-a-file" };
    const known = this.#files.byKey(key);
    if (known) return { kind: "link", url: this.#url(known.token, known.name) };
    // A disappearing message's link goes with it: its timer runs from when it was read, or from now.
    const disappears = m.expiresAt ?? (m.expiresIn ? Date.now() + m.expiresIn * 1000 : Infinity);
    const expiresAt = Math.min(Date.now() + this.#ttlMs, disappears);
    let bytes: Uint8Array;
    try {
      // Not kept in the identity's storage too: the hosted copy is the one that is needed.
      bytes = await client.downloadFile(m.chat, m.id, { keep: false });
    } catch (error) {
      const code = error instanceof SdkError ? error.code : "error";
      this.#log.warn("xmpp.file_download_failed", { reason: code });
      // The server is away or busy (the SDK retried already): the message waits in the feed and is
      // tried again. Anything else would fail again: the file goes as its name.
      if (code === "offline" || code === "rate-limited") return { kind: "later", reason: code };
      return { kind: "failed", reason: code };
    }
    try {
      const f = await this.#files.add(key, bytes, { name: m.file.name, mime: m.file.mime, expiresAt });
      this.#log.info("xmpp.file_hosted", {
        bytes: f.size,
        ttlS: Math.round((expiresAt - Date.now()) / 1000),
      });
      return { kind: "link", url: this.#url(f.token, f.name) };
    } catch (error) {
      const reason = error instanceof HostingError ? error.code : "disk";
      this.#log.warn("xmpp.file_hosting_failed", {
        reason,
        ...(error instanceof HostingError ? {} : { error: (error as NodeJS.ErrnoException).code ?? "error" }),
        used: this.#files.usedBytes,
      });
      return { kind: "failed", reason };
    }
  }

  /** The file name is in the link only for the XMPP client to show (the server reads the token). */
  #url(token: string, name: string): string {
    return `${this.#publicUrl}/${token}/${encodeURIComponent(name)}`;
  }
}

function keyOf(chat: string, messageId: string): string {
  return createHash("sha256").update(`${chat}\n${messageId}`).digest("base64url");
}
