import { type ChatMessage, type ChatSummary, newMessageId } from "@sori/sdk";
import type { FilesIn } from "./files-in.ts";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf, OMEMO_REFUSAL } from "./inbound.ts";
import { bridgedUsernameOf, jidOfBridged, jidText, parseJid } from "./jid.ts";
import {
  chatIdOfRoom,
  joinRefusal,
  occupantPresence,
  type RoomStanza,
  roomInfo,
  roomInvitation,
  roomLocalOf,
  roomMessage,
  roomSubject,
} from "./muc-stanzas.ts";
import { fileCaptionId, oobParts } from "./oob.ts";
import { messageError } from "./stanzas.ts";
import type { XmlElement } from "./xmpp-library.ts";

/** A message older than this when it reaches an occupant carries its time (XEP-0203 delay). */
const DELAYED_AFTER_MS = 10_000;

type Occupant = { full: string; nick: string };

/**
 * Sori groups with XMPP members, hosted as members-only MUC rooms (XEP-0045) at
 * `group+<id>@<domain>`. The room is the group: its members are the Sori group's members, and an
 * XMPP member is in it through their bridged identity, so what they say is an MLS message in the group
 * like anyone's. Each identity serves its own XMPP user: it receives the group's messages and passes
 * them to that user's occupant; a message arriving while they are not in the room waits (in the
 * identity's feed) and is passed on, with its time, when they join.
 */
export class Rooms {
  readonly #ctx: GatewayContext;
  readonly #flush: (username: string) => void;
  readonly #files: FilesIn;
  /** room localpart → identity username → its XMPP user's occupant. */
  readonly #occupants = new Map<string, Map<string, Occupant>>();
  /** `${identity}\0${chatId}` → members last told to the occupant, and whether invited. */
  readonly #known = new Map<string, { members: string[]; invited: boolean }>();

  constructor(ctx: GatewayContext, flush: (username: string) => void, files: FilesIn) {
    this.#ctx = ctx;
    this.#flush = flush;
    this.#files = files;
  }

  #roomJid(local: string): string {
    return `${local}@${this.#ctx.domain}`;
  }

  /** What an occupant is called: a Sori user by username, an XMPP member by their address. */
  #nickOf(username: string): string {
    const jid = jidOfBridged(username);
    return jid ? jidText(jid) : username;
  }

  /** The address a member has on the XMPP network (rooms here are not anonymous). */
  #jidOf(username: string): string {
    const jid = jidOfBridged(username);
    return jid ? jidText(jid) : `${username.toLowerCase()}@${this.#ctx.domain}`;
  }

  async handle(s: Exclude<RoomStanza, { kind: "not-room" }>): Promise<void> {
    const username = bridgedUsernameOf(s.from);
    const client = this.#ctx.identities.get(username);
    const chatId = chatIdOfRoom(s.room)!;
    const chat = client ? await client.findChat(chatId) : undefined;
    const member = client !== undefined && chat?.kind === "group" && chat.active;
    const roomJid = this.#roomJid(s.room);
    switch (s.kind) {
      case "join":
        if (!member) {
          await this.#ctx.send(joinRefusal(roomJid, s.nick, s.fromFull));
          return;
        }
        await this.#join(username, chat, s.room, s.fromFull, s.nick);
        return;
      case "leave": {
        const occupant = this.#occupants.get(s.room)?.get(username);
        if (!occupant || occupant.full !== s.fromFull) return;
        this.#occupants.get(s.room)!.delete(username);
        await this.#ctx.send(
          occupantPresence(roomJid, occupant.nick, s.fromFull, { codes: [110], unavailable: true }),
        );
        return;
      }
      case "groupchat": {
        const occupant = this.#occupants.get(s.room)?.get(username);
        const original = { from: s.fromFull, to: roomJid, id: s.id };
        if (!member || !occupant || occupant.full !== s.fromFull) {
          await this.#ctx.send(
            messageError(original, "modify", "not-acceptable", "join the room before writing to it"),
          );
          return;
        }
        if (s.file === "omemo") {
          await this.#ctx.send(messageError(original, "modify", "not-acceptable", OMEMO_REFUSAL));
          return;
        }
        try {
          // A linked file is fetched into a Sori attachment (files-in.ts), or its link goes as text.
          const sent = s.file
            ? await this.#files.send(
                client,
                username,
                chatId,
                { body: s.body, id: s.id, markable: false, file: s.file },
                newMessageId(),
              )
            : await client.sendText(chatId, s.body);
          this.#ctx.counters.toSori++;
          // A room reflects every message to its sender, with the sender's id (XEP-0045 §7.2.12).
          const extras = s.file ? oobParts(s.file.url).extras : [];
          await this.#ctx.send(
            roomMessage(roomJid, occupant.nick, s.fromFull, s.id ?? sent.id, s.body, undefined, extras),
          );
        } catch (error) {
          this.#ctx.log.warn("xmpp.room_send_failed", { reason: codeOf(error) });
          await this.#ctx.send(
            messageError(original, "wait", "recipient-unavailable", "not delivered to the Sori group"),
          );
        }
        return;
      }
    }
  }

  async #join(username: string, chat: ChatSummary, room: string, full: string, asked: string): Promise<void> {
    const roomJid = this.#roomJid(room);
    const nick = this.#nickOf(username);
    for (const other of chat.members) {
      if (other.toLowerCase() === username) continue;
      await this.#ctx.send(occupantPresence(roomJid, this.#nickOf(other), full, { jid: this.#jidOf(other) }));
    }
    // 110: this is you; 100: everyone's address is visible; 210: the room chose the nickname.
    const codes = [110, 100, ...(asked === nick ? [] : [210])];
    await this.#ctx.send(occupantPresence(roomJid, nick, full, { codes, jid: this.#jidOf(username) }));
    await this.#ctx.send(roomSubject(roomJid, full, chat.name));
    const occupants = this.#occupants.get(room) ?? new Map<string, Occupant>();
    this.#occupants.set(room, occupants);
    occupants.set(username, { full, nick });
    this.#known.set(`${username}\0${chat.id}`, { members: [...chat.members], invited: true });
    this.#flush(username);
  }

  /**
   * A group message an identity received, for its XMPP user: "sent" to their occupant, "held" while
   * they are not in the room (it stays in the feed), "failed" if the link is down. `link`: a file
   * that goes as its link (`body`), with XEP-0066 data and its caption after it, as in direct chats.
   */
  async deliver(
    username: string,
    m: ChatMessage,
    body: string,
    link = false,
  ): Promise<"sent" | "held" | "failed"> {
    const room = roomLocalOf(m.chat);
    const occupant = this.#occupants.get(room)?.get(username.toLowerCase());
    if (!occupant) return "held";
    const late = Date.now() - m.sentAt > DELAYED_AFTER_MS ? m.sentAt : undefined;
    const [roomJid, nick] = [this.#roomJid(room), this.#nickOf(m.from)];
    const stanzas = link
      ? [
          roomMessage(roomJid, nick, occupant.full, m.id, body, late, oobParts(body).extras),
          ...(m.text ? [roomMessage(roomJid, nick, occupant.full, fileCaptionId(m.id), m.text, late)] : []),
        ]
      : [roomMessage(roomJid, nick, occupant.full, m.id, body, late)];
    for (const stanza of stanzas) if (!(await this.#ctx.send(stanza))) return "failed";
    return "sent";
  }

  /**
   * An identity's group changed (made, members, left): its XMPP user is invited once, told who came
   * and went while in the room, and removed from the room when the identity left the group.
   */
  async chatChanged(username: string, chat: ChatSummary): Promise<void> {
    if (chat.kind !== "group") return;
    const jid = jidOfBridged(username);
    if (!jid) return;
    const key = `${username}\0${chat.id}`;
    const known = this.#known.get(key) ?? { members: [], invited: false };
    const room = roomLocalOf(chat.id);
    const roomJid = this.#roomJid(room);
    const occupant = this.#occupants.get(room)?.get(username);
    if (!chat.active) {
      this.#known.delete(key);
      if (!occupant) return;
      this.#occupants.get(room)!.delete(username);
      // 321: removed from a members-only room because they are no longer a member.
      await this.#ctx.send(
        occupantPresence(roomJid, occupant.nick, occupant.full, { codes: [110, 321], unavailable: true }),
      );
      return;
    }
    if (!known.invited && !occupant) {
      // A group's name travels inside MLS and may not have arrived with the Welcome yet.
      const reason = chat.name
        ? `you were added to the Sori group "${chat.name}"`
        : "you were added to a Sori group";
      await this.#ctx.send(roomInvitation(roomJid, jidText(jid), reason));
      known.invited = true;
    }
    if (occupant) {
      const before = new Set(known.members.map((u) => u.toLowerCase()));
      const now = new Set(chat.members.map((u) => u.toLowerCase()));
      for (const u of chat.members)
        if (!before.has(u.toLowerCase()) && u.toLowerCase() !== username)
          await this.#ctx.send(
            occupantPresence(roomJid, this.#nickOf(u), occupant.full, { jid: this.#jidOf(u) }),
          );
      for (const u of known.members)
        if (!now.has(u.toLowerCase()) && u.toLowerCase() !== username)
          await this.#ctx.send(
            occupantPresence(roomJid, this.#nickOf(u), occupant.full, { unavailable: true }),
          );
    }
    known.members = [...chat.members];
    this.#known.set(key, known);
  }

  /** disco#info for a room, answered alike for rooms that do not exist (no probing for groups). */
  async info(room: string, from: string): Promise<XmlElement> {
    const chatId = chatIdOfRoom(room);
    const jid = parseJid(from);
    const client = jid?.local ? this.#ctx.identities.get(bridgedUsernameOf(jid)) : undefined;
    const chat = chatId && client ? await client.findChat(chatId) : undefined;
    return roomInfo(chat?.kind === "group" && chat.active ? chat.name : "Sori group");
  }
}
