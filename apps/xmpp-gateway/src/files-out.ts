import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { Logger } from "@sori/server";
import type { FileHosting, FileLink } from "./file-hosting.ts";

/** A file that could not be downloaded for now (Sori's server away) is tried again after this. */
const RETRY_MS = 5000;

/**
 * Sori → XMPP files, as Outbound sees them: the link a file message goes as (file-hosting.ts), or
 * undefined for the text in its place (no hosting configured: said once in the log; or it failed
 * for good), or "later". Links of deleted messages are taken down.
 */
export class FilesOut {
  readonly #hosting: FileHosting | undefined;
  readonly #log: Logger;
  readonly #retries = new Map<string, NodeJS.Timeout>();
  #toldOff = false;
  #stopped = false;

  constructor(hosting: FileHosting | undefined, log: Logger) {
    this.#hosting = hosting;
    this.#log = log;
  }

  /** Whether a file message went (or goes) as a link: the gateway hosts it. */
  hosts(m: ChatMessage): boolean {
    return this.#hosting?.hosts(m.chat, m.id) ?? false;
  }

  /** What a Sori message is for XMPP if it is a file: its link, "later", or undefined (text). */
  async linkOf(client: SoriClient, m: ChatMessage): Promise<FileLink | undefined> {
    if (m.deleted || m.kind !== "file") return undefined;
    if (!this.#hosting) {
      if (!this.#toldOff) {
        this.#toldOff = true;
        this.#log.info("xmpp.file_hosting_off", {
          note: "files reach XMPP as their name only: start the gateway with --files-listen and --files-public-url",
        });
      }
      return undefined;
    }
    const link = await this.#hosting.link(client, m);
    if (link.kind !== "failed") return link;
    this.#log.warn("xmpp.file_sent_as_text", { reason: link.reason });
    return undefined;
  }

  /** Calls `again` in a while (once per identity, however often asked meanwhile). */
  retryLater(username: string, again: () => void): void {
    if (this.#stopped || this.#retries.has(username)) return;
    const timer = setTimeout(() => {
      this.#retries.delete(username);
      again();
    }, RETRY_MS);
    timer.unref();
    this.#retries.set(username, timer);
  }

  /** A message changed: deleted for everyone, its link stops working at once. */
  updated(m: ChatMessage): void {
    if (!m.deleted || !this.#hosting) return;
    void this.#hosting.forget(m.chat, m.id).catch((error: unknown) => {
      this.#log.warn("xmpp.hosted_file_remove_failed", { reason: (error as Error).name });
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    await this.#hosting?.stop();
  }
}
