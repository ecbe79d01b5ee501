import { MAX_TEXT_CHARS } from "@sori/sdk";
import { type BareJid, parseJid } from "./jid.ts";
import { type OobFile, parseOob } from "./oob.ts";
import { type ChatExtras, chatExtrasOf, type FeatureStanza, parseFeature } from "./stanza-features.ts";
import { type XmlChild, xml, type XmlElement } from "./xmpp-library.ts";

const NS_RECEIPTS = "urn:xmpp:receipts";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** OMEMO's namespaces: the widely deployed 0.3 one (Conversations, Gajim, Dino) and OMEMO 2. */
const NS_OMEMO = ["eu.siacs.conversations.axolotl", "urn:xmpp:omemo:2"];
/** Longest stanza id kept (ids are echoed in receipts and errors). */
const MAX_ID = 128;

/** `fromFull` keeps the sender's resource: errors must go to it. */
export type Addressed = { from: BareJid; fromFull: string; to: BareJid; id: string | undefined };

/** A stanza from the XMPP network, parsed at the edge into what the gateway acts on. */
export type InboundStanza =
  /** `file`: an XEP-0066 link to a file, fetched into a Sori attachment (`body` is its text form). */
  | (Addressed & { kind: "chat"; body: string; wantsReceipt: boolean; file?: OobFile } & ChatExtras)
  /** Longer than a Sori message may be: refused with an error, not cut. */
  | (Addressed & { kind: "too-long" })
  /** Typing, markers, corrections, retractions, reactions (stanza-features.ts). */
  | (Addressed & FeatureStanza)
  /** OMEMO-encrypted: the gateway cannot read it and says so, never relaying a fallback body. */
  | (Addressed & { kind: "omemo" })
  /** The XMPP side's client got a message the gateway sent (XEP-0184). */
  | (Addressed & { kind: "receipt"; of: string })
  /**
   * The XMPP server could not deliver something the gateway sent: `condition` is the RFC 6120 one,
   * `reason` the words a person reads (the server's text, or the condition said plainly).
   */
  | (Addressed & { kind: "bounce"; condition: string; reason: string })
  | { kind: "ignored"; why: string };

/** What an incoming `<message/>` is; anything malformed is "ignored" with the reason. */
export function parseMessageStanza(stanza: XmlElement): InboundStanza {
  if (!stanza.is("message")) return { kind: "ignored", why: "not a message" };
  const from = parseJid(stanza.attrs.from);
  const to = parseJid(stanza.attrs.to);
  if (!from?.local || !to) return { kind: "ignored", why: "no usable from or to address" };
  const rawId = stanza.attrs.id;
  const id = rawId && rawId.length <= MAX_ID ? rawId : undefined;
  const addressed = { from, fromFull: stanza.attrs.from!, to, id };
  const type = stanza.attrs.type ?? "normal";
  if (type === "error") {
    const error = stanza.getChild("error");
    const text = error?.getChildText("text", NS_STANZAS);
    const condition = error?.children.find(
      (c): c is XmlElement => typeof c !== "string" && c.attrs.xmlns === NS_STANZAS && c.name !== "text",
    );
    const name = condition?.name ?? "undefined-condition";
    return { ...addressed, kind: "bounce", condition: name, reason: text || conditionWords(name) };
  }
  if (type !== "chat" && type !== "normal") return { kind: "ignored", why: `message type ${type}` };
  if (NS_OMEMO.some((ns) => stanza.getChild("encrypted", ns))) return { ...addressed, kind: "omemo" };
  const received = stanza.getChild("received", NS_RECEIPTS);
  if (received?.attrs.id) return { ...addressed, kind: "receipt", of: received.attrs.id };
  const body = stanza.getChildText("body");
  const oob = parseOob(stanza, body);
  // OMEMO media sharing (aesgcm://): the key is in what the gateway cannot read either.
  if (oob?.kind === "omemo-media") return { ...addressed, kind: "omemo" };
  const feature = parseFeature(stanza, body);
  if (feature) return feature.kind === "ignored" ? feature : { ...addressed, ...feature };
  const file = oob?.file;
  // XEP-0066 lets a message be its link alone; as text, the link is the message.
  const text = body || file?.url || "";
  if (text === "") return { kind: "ignored", why: "no body" };
  // Counted as the SDK counts (UTF-16 code units), so that what passes here is not refused by it.
  if (text.length > MAX_TEXT_CHARS) return { ...addressed, kind: "too-long" };
  return {
    ...addressed,
    kind: "chat",
    body: text,
    wantsReceipt: stanza.getChild("request", NS_RECEIPTS) !== undefined,
    ...chatExtrasOf(stanza, text),
    ...(file ? { file } : {}),
  };
}

/** The XMPP server's refusals a Sori sender meets, said plainly (RFC 6120 §8.3.3). */
const CONDITION_WORDS: Record<string, string> = {
  "service-unavailable": "this address does not take messages (it may not exist)",
  "item-not-found": "this address does not exist",
  "recipient-unavailable": "the recipient cannot take messages now",
  "remote-server-not-found": "their XMPP server could not be found",
  "remote-server-timeout": "their XMPP server did not answer",
  "not-allowed": "their XMPP server does not allow this message",
  forbidden: "their XMPP server refused this message",
  "policy-violation": "their XMPP server refused this message by its policy",
  "resource-constraint": "their XMPP server is too busy",
};

function conditionWords(condition: string): string {
  return CONDITION_WORDS[condition] ?? `their XMPP server could not deliver it (${condition})`;
}

/** A chat message to an XMPP address, asking for a delivery receipt (`extras`: stanza-features.ts). */
export function chatStanza(
  from: string,
  to: string,
  id: string,
  body: string,
  ...extras: XmlChild[]
): XmlElement {
  return xml(
    "message",
    { type: "chat", from, to, id },
    xml("body", {}, body),
    xml("request", { xmlns: NS_RECEIPTS }),
    ...extras,
    // Lets servers keep it in the recipient's archive (XEP-0334) like any chat message.
    xml("store", { xmlns: "urn:xmpp:hints" }),
  );
}

/** XEP-0184: tells the sender its message reached the Sori person's device. */
export function receiptStanza(from: string, to: string, of: string): XmlElement {
  return xml("message", { from, to, id: `r-${of}` }, xml("received", { xmlns: NS_RECEIPTS, id: of }));
}

/** An error answer to a message (RFC 6120 §8.3), with a human-readable text. */
export function messageError(
  original: { from: string; to: string; id: string | undefined },
  type: "modify" | "cancel" | "wait",
  condition: string,
  text: string,
): XmlElement {
  return xml(
    "message",
    { type: "error", from: original.to, to: original.from, id: original.id },
    xml(
      "error",
      { type },
      xml(condition, { xmlns: NS_STANZAS }),
      xml("text", { xmlns: NS_STANZAS, "xml:lang": "en" }, text),
    ),
  );
}
