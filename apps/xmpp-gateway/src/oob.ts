import { type XmlChild, xml, type XmlElement } from "./xmpp-library.ts";

const NS_OOB = "jabber:x:oob";
/** Longer URLs are not taken as files (the message then goes on as text). */
const MAX_URL_CHARS = 2048;

/** A file an XMPP message points to (XEP-0066): its URL and the text that came with it. */
export type OobFile = { url: string; caption?: string };

/**
 * What a `<message/>` says about a file: one to fetch (XEP-0066 out-of-band data, as XEP-0363 uploads
 * are announced: Conversations, Gajim and Dino send the URL as the body too), OMEMO media sharing
 * (an `aesgcm://` URL, whose key is in the fragment: the gateway cannot open it, as it cannot read
 * OMEMO), or undefined. A body that is a bare URL without `<x xmlns="jabber:x:oob">` is a link in a
 * text, not a file. Any scheme is kept here: the fetcher refuses what is not http or https, so that
 * the sender hears why.
 */
export function parseOob(
  stanza: XmlElement,
  body: string | null,
): { kind: "file"; file: OobFile } | { kind: "omemo-media" } | undefined {
  const text = body?.trim() ?? "";
  const url = stanza.getChild("x", NS_OOB)?.getChildText("url")?.trim() ?? "";
  if (isAesgcm(text) || isAesgcm(url)) return { kind: "omemo-media" };
  if (url === "" || url.length > MAX_URL_CHARS) return undefined;
  // The body is the URL, or a text around it (XEP-0066 lets it carry a description).
  const caption = text === url ? "" : text.includes(url) ? text.replace(url, "").trim() : text;
  const desc = stanza.getChild("x", NS_OOB)?.getChildText("desc")?.trim() ?? "";
  const said = caption || desc;
  return { kind: "file", file: said ? { url, caption: said } : { url } };
}

function isAesgcm(text: string): boolean {
  return /^aesgcm:\/\//i.test(text);
}

/**
 * The parts of a message that carries a hosted file to XMPP: the URL alone as the body, and the same
 * URL as out-of-band data. Clients show a file (an image inline) only when the body is exactly the
 * URL, so a caption goes as a message of its own (see fileCaptionId).
 */
export function oobParts(url: string): { body: string; extras: XmlChild[] } {
  return { body: url, extras: [xml("x", { xmlns: NS_OOB }, xml("url", {}, url))] };
}

/** The XMPP id of the message carrying a file's caption, made from the file message's id. */
export function fileCaptionId(messageId: string): string {
  return `${messageId}.caption`;
}
