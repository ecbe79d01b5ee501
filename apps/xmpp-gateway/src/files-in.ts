import { type ChatMessage, MAX_TEXT_CHARS, SdkError, type SoriClient } from "@sori/sdk";
import type { ChatText, FeaturesIn } from "./features-in.ts";
import { type FetchFailure, type FileFetcher, failureText } from "./file-fetch.ts";
import type { GatewayContext } from "./gateway-context.ts";
import type { OobFile } from "./oob.ts";

/**
 * XMPP → Sori files: an XMPP message that links a file (XEP-0066, as XEP-0363 uploads are sent) is
 * fetched by the gateway (file-fetch.ts) and sent by the sender's bridged identity with sendFile, so
 * it is encrypted like every Sori attachment. One that cannot be fetched is not lost: its text and
 * link go as a message with a note saying why. Both are sent under the message id the journal chose,
 * so after a crash neither goes twice.
 */
export class FilesIn {
  readonly #ctx: GatewayContext;
  readonly #fetcher: FileFetcher;
  readonly #features: FeaturesIn;

  constructor(ctx: GatewayContext, fetcher: FileFetcher, features: FeaturesIn) {
    this.#ctx = ctx;
    this.#fetcher = fetcher;
    this.#features = features;
  }

  /** Sends the file `s.file` links to Sori user `to` as identity `bridged`, under message id `id`. */
  async send(
    identity: SoriClient,
    bridged: string,
    to: string,
    s: ChatText & { file: OobFile },
    id: string,
  ): Promise<ChatMessage> {
    const { log } = this.#ctx;
    const chat = await identity.findChat(to);
    const before = chat && (await identity.message(chat.id, id));
    // Sent before a crash (the file, or the text in its place): not fetched again.
    if (before?.kind === "text") return this.#text(identity, bridged, to, s, id, before.text);
    if (before && before.status !== "failed" && before.status !== "sending") {
      await this.#features.sent(bridged, before, s);
      return before;
    }
    const started = Date.now();
    const fetched = await this.#fetcher.fetch(s.file.url, bridged);
    let failure: FetchFailure;
    if (fetched.ok) {
      const { bytes, name, mime } = fetched.file;
      try {
        const sent = await identity.sendFile(
          to,
          { name, mime, bytes },
          { id, ...(s.file.caption ? { caption: s.file.caption } : {}) },
        );
        log.info("xmpp.file_to_sori", { bytes: bytes.length, ms: Date.now() - started });
        await this.#features.sent(bridged, sent, s);
        return sent;
      } catch (error) {
        // Over the Sori server's own limit (set lower than the gateway's): told as too large.
        if (!(error instanceof SdkError && error.code === "too-large")) throw error;
        const limit = typeof error.details.limit === "number" ? error.details.limit : bytes.length - 1;
        failure = { code: "too-large", limit };
        // The attempt stays on the identity's device under the id, unsent: the text takes its place.
        const made = await identity.findChat(to);
        if (made) await identity.deleteLocally(made.id, id);
      }
    } else failure = fetched.failure;
    // What is logged says why, never where: a link's path and query can hold its secret.
    log.warn("xmpp.file_fetch_failed", {
      reason: failure.code,
      ...(failure.code === "http-status" ? { status: failure.status } : {}),
      ms: Date.now() - started,
    });
    return this.#text(identity, bridged, to, s, id, unfetchedText(s.body, s.file.url, failureText(failure)));
  }

  async #text(
    identity: SoriClient,
    bridged: string,
    to: string,
    s: ChatText,
    id: string,
    body: string,
  ): Promise<ChatMessage> {
    // Not as a reply: the quote the XMPP client put in the body stays in the text.
    const { reply: _reply, ...plain } = s;
    return this.#features.sendText(identity, bridged, to, { ...plain, body }, { id });
  }
}

/**
 * An XMPP file message as text, when the file could not be fetched: its text and link as they came,
 * and a note saying why (shortened to fit a Sori message, the note kept whole).
 */
export function unfetchedText(body: string, url: string, why: string): string {
  const note = `[the XMPP gateway could not fetch this file: ${why}]`;
  const text = body.includes(url) ? body : `${body}\n${url}`;
  const room = MAX_TEXT_CHARS - note.length - 1;
  // Cut on a code point, never between the halves of a surrogate pair.
  const cut = text.length > room ? text.slice(0, room).replace(/[\uD800-\uDBFF]$/, "") : text;
  return `${cut}\n${note}`;
}
