import { randomUUID } from "node:crypto";
import { type XmlChild, xml, type XmlElement } from "./xmpp-library.ts";

const NS_CHAT_STATES = "http://jabber.org/protocol/chatstates";
const NS_MARKERS = "urn:xmpp:chat-markers:0";
const NS_CORRECT = "urn:xmpp:message-correct:0";
/** XEP-0424 as clients deploy it now, and its earlier form inside XEP-0422's apply-to. */
const NS_RETRACT = "urn:xmpp:message-retract:1";
const NS_RETRACT_0 = "urn:xmpp:message-retract:0";
const NS_FASTEN = "urn:xmpp:fasten:0";
const NS_REPLY = "urn:xmpp:reply:0";
/** XEP-0428, and the namespace of its earlier draft that some libraries still write. */
const NS_FALLBACK = "urn:xmpp:fallback:0";
const NS_FALLBACK_OLD = "urn:xmpp:feature-fallback:0";
const NS_REACTIONS = "urn:xmpp:reactions:0";
const NS_SID = "urn:xmpp:sid:0";
const NS_HINTS = "urn:xmpp:hints";
/** Longest id taken from a stanza (the same bound as stanza ids). */
const MAX_ID = 128;
/** Reactions one stanza may set on a message; the rest are ignored. */
const MAX_REACTIONS = 20;
/** What an XMPP client without retractions shows instead. */
const RETRACTION_FALLBACK = "This message was deleted. (Your XMPP client does not show retractions.)";

const CHAT_STATES = ["active", "composing", "paused", "inactive", "gone"] as const;
/** XEP-0085: what the other side is doing in the chat. */
export type ChatState = (typeof CHAT_STATES)[number];

/** A stanza that does something to an earlier message or to the chat, rather than say something. */
export type FeatureStanza =
  | { kind: "chat-state"; state: ChatState }
  /** XEP-0333: the XMPP user has seen the message `of` (and those before it). */
  | { kind: "displayed"; of: string }
  /** XEP-0308: `of` (the original's id, or a correction's) now reads `body`. */
  | { kind: "correction"; of: string; body: string }
  /** XEP-0424. */
  | { kind: "retraction"; of: string }
  /** XEP-0444: the XMPP user's whole set of reactions to `of` (empty: none). */
  | { kind: "reactions"; of: string; emojis: string[] };

/** What a chat message carries besides its body. */
export type ChatExtras = {
  /** The sender wants chat markers (XEP-0333). */
  markable: boolean;
  /** XEP-0359: the id the sender gave it, which retractions name. */
  originId?: string;
  /** XEP-0461: the message it answers, and its text without the quote (XEP-0428 fallback). */
  reply?: { of: string; text: string };
};

/** A quote for an outgoing reply: whose message (a bare JID), its XMPP id and its text. */
export type Quote = { author: string; of: string; text: string };

/**
 * What a `<message/>` with a usable sender does besides carrying text: a feature, "ignored" (a
 * marker the gateway does not use, an id too long), or undefined when it is a plain message (or
 * nothing). A retraction or reaction with a fallback body is the feature, never the text.
 */
export function parseFeature(
  stanza: XmlElement,
  body: string | null,
): FeatureStanza | { kind: "ignored"; why: string } | undefined {
  const retract = stanza.getChild("retract", NS_RETRACT);
  const applyTo = stanza.getChild("apply-to", NS_FASTEN);
  if (retract || applyTo?.getChild("retract", NS_RETRACT_0)) {
    const of = idOf(retract ?? applyTo);
    return of ? { kind: "retraction", of } : { kind: "ignored", why: "retraction without a usable id" };
  }
  const reactions = stanza.getChild("reactions", NS_REACTIONS);
  if (reactions) {
    const of = idOf(reactions);
    if (!of) return { kind: "ignored", why: "reactions without a usable id" };
    const emojis = reactions
      .getChildren("reaction", NS_REACTIONS)
      .map((r) => r.getText())
      .filter((e) => e.length > 0);
    return { kind: "reactions", of, emojis: [...new Set(emojis)].slice(0, MAX_REACTIONS) };
  }
  const replace = stanza.getChild("replace", NS_CORRECT);
  if (replace && body) {
    const of = idOf(replace);
    if (!of) return { kind: "ignored", why: "correction without a usable id" };
    // A correction carries the whole message again, a reply's quote included: the quote is not text.
    const text = stanza.getChild("reply", NS_REPLY) ? withoutFallback(stanza, body, NS_REPLY) : body;
    return { kind: "correction", of, body: text || body };
  }
  if (body) return undefined;
  const displayed = stanza.getChild("displayed", NS_MARKERS);
  if (displayed) {
    const of = idOf(displayed);
    return of ? { kind: "displayed", of } : { kind: "ignored", why: "marker without a usable id" };
  }
  const state = stanza.children.find(
    (c): c is XmlElement & { name: ChatState } =>
      typeof c !== "string" && c.attrs.xmlns === NS_CHAT_STATES && isChatState(c.name),
  );
  if (state) return { kind: "chat-state", state: state.name };
  return undefined;
}

/** The markers request, origin-id and reply of a chat message with text `body`. */
export function chatExtrasOf(stanza: XmlElement, body: string): ChatExtras {
  const originId = idOf(stanza.getChild("origin-id", NS_SID));
  const replyTo = idOf(stanza.getChild("reply", NS_REPLY));
  const text = replyTo === undefined ? undefined : withoutFallback(stanza, body, NS_REPLY);
  return {
    markable: stanza.getChild("markable", NS_MARKERS) !== undefined,
    ...(originId ? { originId } : {}),
    ...(replyTo !== undefined && text ? { reply: { of: replyTo, text } } : {}),
  };
}

/**
 * `body` without the parts that are a fallback for `feature` (XEP-0428 ranges count code points;
 * a fallback without ranges is the whole body). Undefined if a range does not fit the body; the body
 * as it is when nothing is marked.
 */
function withoutFallback(stanza: XmlElement, body: string, feature: string): string | undefined {
  const points = [...body];
  const keep = points.map(() => true);
  for (const fallback of stanza.children) {
    if (typeof fallback === "string" || fallback.name !== "fallback") continue;
    if (fallback.attrs.xmlns !== NS_FALLBACK && fallback.attrs.xmlns !== NS_FALLBACK_OLD) continue;
    if (fallback.attrs.for !== feature) continue;
    const ranges = fallback.getChildren("body", fallback.attrs.xmlns);
    if (ranges.length === 0) return "";
    for (const range of ranges) {
      const start = Number(range.attrs.start ?? 0);
      const end = Number(range.attrs.end ?? points.length);
      if (
        !Number.isInteger(start) ||
        !Number.isInteger(end) ||
        start < 0 ||
        start > end ||
        end > points.length
      )
        return undefined;
      keep.fill(false, start, end);
    }
  }
  return points.filter((_, i) => keep[i]).join("");
}

function isChatState(name: string): name is ChatState {
  return (CHAT_STATES as readonly string[]).includes(name);
}

function idOf(element: XmlElement | undefined): string | undefined {
  const id = element?.attrs.id;
  return id && id.length <= MAX_ID ? id : undefined;
}

/** A fresh stanza id for what the gateway sends on its own (markers, corrections, retractions). */
function newStanzaId(): string {
  return randomUUID();
}

/**
 * The body and extra elements of a chat message to XMPP: chat markers asked for, its origin-id (its
 * Sori id, which XMPP clients then name it by), "active" (it ends "composing"), and for a reply the
 * quote as an XEP-0428 fallback that clients with XEP-0461 hide.
 */
export function outgoingParts(id: string, text: string, quote?: Quote): { body: string; extras: XmlChild[] } {
  const extras: XmlChild[] = [
    xml("markable", { xmlns: NS_MARKERS }),
    xml("origin-id", { xmlns: NS_SID, id }),
    xml("active", { xmlns: NS_CHAT_STATES }),
  ];
  if (!quote) return { body: text, extras };
  const fallback = `${quote.text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n")}\n`;
  extras.push(
    xml("reply", { xmlns: NS_REPLY, to: quote.author, id: quote.of }),
    xml(
      "fallback",
      { xmlns: NS_FALLBACK, for: NS_REPLY },
      xml("body", { start: "0", end: String([...fallback].length) }),
    ),
  );
  return { body: fallback + text, extras };
}

/** XEP-0085: typing, or not any more; not kept in archives. */
export function chatStateStanza(from: string, to: string, state: ChatState): XmlElement {
  return xml(
    "message",
    { type: "chat", from, to },
    xml(state, { xmlns: NS_CHAT_STATES }),
    xml("no-store", { xmlns: NS_HINTS }),
  );
}

/** XEP-0333: the Sori user has seen the message `of` (and the ones before it). */
export function displayedStanza(from: string, to: string, of: string): XmlElement {
  return xml(
    "message",
    { type: "chat", from, to, id: newStanzaId() },
    xml("displayed", { xmlns: NS_MARKERS, id: of }),
    xml("store", { xmlns: NS_HINTS }),
  );
}

/** XEP-0308: message `of` now reads `text` (with its reply, if it is one: a correction replaces all). */
export function correctionStanza(
  from: string,
  to: string,
  of: string,
  text: string,
  quote?: Quote,
): XmlElement {
  const id = newStanzaId();
  const { body, extras } = outgoingParts(id, text, quote);
  return xml(
    "message",
    { type: "chat", from, to, id },
    xml("body", {}, body),
    xml("replace", { xmlns: NS_CORRECT, id: of }),
    ...extras.filter((e) => typeof e === "object" && e && e.name !== "markable"),
    xml("store", { xmlns: NS_HINTS }),
  );
}

/**
 * XEP-0424: message `of` is deleted. Both forms (older clients and libraries read only the one inside
 * apply-to), a fallback body marked as such, and a hint to keep it in archives.
 */
export function retractionStanza(from: string, to: string, of: string): XmlElement {
  return xml(
    "message",
    { type: "chat", from, to, id: newStanzaId() },
    xml("retract", { xmlns: NS_RETRACT, id: of }),
    xml("apply-to", { xmlns: NS_FASTEN, id: of }, xml("retract", { xmlns: NS_RETRACT_0 })),
    xml("fallback", { xmlns: NS_FALLBACK, for: NS_RETRACT }),
    xml("body", {}, RETRACTION_FALLBACK),
    xml("store", { xmlns: NS_HINTS }),
  );
}

/** XEP-0444: the Sori user's whole set of reactions to `of` (empty: all taken back). */
export function reactionsStanza(from: string, to: string, of: string, emojis: string[]): XmlElement {
  return xml(
    "message",
    { type: "chat", from, to, id: newStanzaId() },
    xml("reactions", { xmlns: NS_REACTIONS, id: of }, ...emojis.map((e) => xml("reaction", {}, e))),
    xml("store", { xmlns: NS_HINTS }),
  );
}
