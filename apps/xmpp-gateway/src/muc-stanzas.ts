import { fromBase64Url, toBase64Url } from "@sori/protocol";
import { type BareJid, parseJid } from "./jid.ts";
import { type OobFile, parseOob } from "./oob.ts";
import { type XmlChild, xml, type XmlElement } from "./xmpp-library.ts";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** A room's localpart: this prefix, then the Sori group id in hex (JID localparts are case-folded). */
const ROOM_PREFIX = "group+";

/** The room JID's localpart for a Sori group chat. No Sori username holds a '+', so none collides. */
export function roomLocalOf(chatId: string): string {
  const bytes = fromBase64Url(chatId);
  return `${ROOM_PREFIX}${Buffer.from(bytes ?? new Uint8Array()).toString("hex")}`;
}

/** The Sori group chat id a room localpart names, or undefined if it names none. */
export function chatIdOfRoom(local: string): string | undefined {
  if (!local.startsWith(ROOM_PREFIX)) return undefined;
  const hex = local.slice(ROOM_PREFIX.length);
  if (!/^([0-9a-f]{2}){16,32}$/.test(hex)) return undefined;
  return toBase64Url(Uint8Array.from(Buffer.from(hex, "hex")));
}

/** A presence or groupchat message addressed to one of the gateway's rooms, parsed at the edge. */
export type RoomStanza =
  | { kind: "join"; from: BareJid; fromFull: string; room: string; nick: string }
  | { kind: "leave"; from: BareJid; fromFull: string; room: string }
  | {
      kind: "groupchat";
      from: BareJid;
      fromFull: string;
      room: string;
      id: string | undefined;
      body: string;
      /** XEP-0066: a file it links to (oob.ts); "omemo": OMEMO media the gateway cannot open. */
      file?: OobFile | "omemo";
    }
  | { kind: "not-room" };

/** What a stanza to `<room>@<domain>` is; anything else is "not-room". */
export function parseRoomStanza(stanza: XmlElement, domain: string): RoomStanza {
  const to = stanza.attrs.to ?? "";
  const from = parseJid(stanza.attrs.from);
  const target = parseJid(to);
  if (!from?.local || !target || target.domain !== domain || chatIdOfRoom(target.local) === undefined)
    return { kind: "not-room" };
  const base = { from, fromFull: stanza.attrs.from!, room: target.local };
  if (stanza.is("presence")) {
    const slash = to.indexOf("/");
    const type = stanza.attrs.type;
    if (type === "unavailable") return { ...base, kind: "leave" };
    if (type !== undefined || slash === -1) return { kind: "not-room" };
    return { ...base, kind: "join", nick: to.slice(slash + 1) };
  }
  if (stanza.is("message") && stanza.attrs.type === "groupchat") {
    const oob = parseOob(stanza, stanza.getChildText("body"));
    const body = stanza.getChildText("body") || (oob?.kind === "file" ? oob.file.url : "");
    if (!body) return { kind: "not-room" };
    const id = stanza.attrs.id && stanza.attrs.id.length <= 128 ? stanza.attrs.id : undefined;
    const file = oob?.kind === "file" ? oob.file : oob?.kind === "omemo-media" ? "omemo" : undefined;
    return { ...base, kind: "groupchat", id, body, ...(file ? { file } : {}) };
  }
  return { kind: "not-room" };
}

/** An occupant's presence in a room (XEP-0045 §7.2.3), with status codes for the occupant's own. */
export function occupantPresence(
  roomJid: string,
  nick: string,
  to: string,
  o: { codes?: number[]; unavailable?: boolean; jid?: string } = {},
): XmlElement {
  return xml(
    "presence",
    { from: `${roomJid}/${nick}`, to, type: o.unavailable ? "unavailable" : undefined },
    xml(
      "x",
      { xmlns: NS_MUC_USER },
      xml("item", {
        affiliation: o.unavailable ? "none" : "member",
        role: o.unavailable ? "none" : "participant",
        jid: o.jid,
      }),
      ...(o.codes ?? []).map((code) => xml("status", { code: String(code) })),
    ),
  );
}

/** A refused join: members-only rooms answer everyone who is not a member alike. */
export function joinRefusal(roomJid: string, nick: string, to: string): XmlElement {
  return xml(
    "presence",
    { from: `${roomJid}/${nick}`, to, type: "error" },
    xml("x", { xmlns: NS_MUC }),
    xml(
      "error",
      { type: "auth" },
      xml("registration-required", { xmlns: NS_STANZAS }),
      xml("text", { xmlns: NS_STANZAS, "xml:lang": "en" }, "only members of this Sori group can join"),
    ),
  );
}

/**
 * A message in a room as an occupant sees it; `sentAt` adds a delay stamp for one held back, and
 * `extras` what it carries besides its body (a file's link: oob.ts).
 */
export function roomMessage(
  roomJid: string,
  nick: string,
  to: string,
  id: string,
  body: string,
  sentAt?: number,
  extras: XmlChild[] = [],
): XmlElement {
  return xml(
    "message",
    { type: "groupchat", from: `${roomJid}/${nick}`, to, id },
    xml("body", {}, body),
    ...extras,
    sentAt !== undefined &&
      xml("delay", { xmlns: "urn:xmpp:delay", from: roomJid, stamp: new Date(sentAt).toISOString() }),
  );
}

/** The room's subject: the Sori group's name (sent after the occupant list, as XEP-0045 orders). */
export function roomSubject(roomJid: string, to: string, subject: string): XmlElement {
  return xml("message", { type: "groupchat", from: roomJid, to }, xml("subject", {}, subject));
}

/** XEP-0249: a direct invitation to a room (the Sori group an XMPP user was added to). */
export function roomInvitation(roomJid: string, to: string, reason: string): XmlElement {
  // The body is for clients without XEP-0249 (and servers drop a bodyless one to a bare address).
  return xml(
    "message",
    { from: roomJid, to },
    xml("body", {}, `${reason}: join ${roomJid}`),
    xml("x", { xmlns: "jabber:x:conference", jid: roomJid, reason }),
  );
}

/** disco#info of a room: a members-only, non-anonymous, persistent text conference. */
export function roomInfo(name: string): XmlElement {
  return xml(
    "query",
    { xmlns: "http://jabber.org/protocol/disco#info" },
    xml("identity", { category: "conference", type: "text", name }),
    ...[NS_MUC, "muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_unmoderated"].map((v) =>
      xml("feature", { var: v }),
    ),
  );
}
