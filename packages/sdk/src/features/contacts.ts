import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import type { ChatSummary } from "../groups/chat-list.ts";
import type { Content } from "../messages/content.ts";
import { newMessageId } from "../messages/message-id.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { Mutex } from "../util/mutex.ts";
import {
  type ContactOp,
  type ContactSide,
  type ContactState,
  nextRelation,
  sameRelation,
} from "./contact-rules.ts";

/** A person this user has a contact relation with, as this device knows it. */
export type Contact = {
  username: string;
  userId: string;
  state: ContactState;
  /** Who made the last change: with `declined`, who declined. */
  by: ContactSide;
  /** The direct chat the last change travelled in. */
  chat: string;
  /** When this device learned of the last change (ms). */
  at: number;
};

/** The `contact` event: a relation changed here, by this device, another of this user's, or them. */
export type ContactChange = Omit<Contact, "state"> & { state: ContactState | "none" };

type ContactContent = Extract<Content, { type: "contact" }>;

type ContactsDeps = {
  /** The direct chat with a username, created if there is none (the facade's lookup). */
  chatFor(username: string): Promise<ChatSummary>;
  /** The other member of a direct chat; undefined for anything else. */
  directPeer(chat: string): Promise<{ userId: string; username: string } | undefined>;
  /** Sends a content into a chat; `auto` for what the device sends by itself. */
  send(chat: string, content: Content, auto: boolean): Promise<unknown>;
  /** Writes the change into the chat's history (and, for one by them, the notification feed). */
  noted(change: ContactChange): Promise<void>;
};

/**
 * Contacts: a request one person sends another and the answer, so that software acting for a person
 * (a gateway's presence, for one) can wait for their consent. Each step is a `contact` content in
 * the two people's direct chat, so both people's devices learn it, inside MLS; each device keeps the
 * relation per person in its own storage (contact/<userId>). The rules are in contact-rules.ts.
 */
export class Contacts {
  readonly #ctx: Pick<DeviceContext, "storage" | "events" | "enrolment" | "later">;
  readonly #deps: ContactsDeps;
  /** This device's own operations, one at a time (held across sending, never by incoming content). */
  readonly #ops = new Mutex();
  /** Each read-modify-write of a record (short, never across a send). */
  readonly #records = new Mutex();

  constructor(ctx: Pick<DeviceContext, "storage" | "events" | "enrolment" | "later">, deps: ContactsDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** Every relation this device knows, by username. */
  async list(): Promise<Contact[]> {
    const out: Contact[] = [];
    for (const key of await this.#ctx.storage.list(StorageKeys.contacts)) {
      const c = await getJson<Contact>(this.#ctx.storage, key);
      if (c) out.push(c);
    }
    return out.sort((a, b) => a.username.localeCompare(b.username));
  }

  /** The relation with one person (username, case-insensitive), if there is one. */
  async get(username: string): Promise<Contact | undefined> {
    const lower = username.toLowerCase();
    return (await this.list()).find((c) => c.username.toLowerCase() === lower);
  }

  /**
   * Asks `username` to be a contact, in the direct chat with them (made if needed). Asking again
   * while the request waits sends nothing more; asking someone who asked this user accepts them.
   */
  request(username: string): Promise<Contact> {
    if (username.toLowerCase() === this.#ctx.enrolment.username.toLowerCase())
      return Promise.reject(new SdkError("bad-request", "you cannot ask yourself to be a contact"));
    return this.#ops.run(async () => {
      const chat = await this.#deps.chatFor(username);
      const peer = await this.#deps.directPeer(chat.id);
      if (!peer) throw new SdkError("bad-request", "a contact request goes to a person, not a group");
      const current = await this.#read(peer.userId);
      if (current?.state === "accepted" || current?.state === "asked-them") return current;
      const after = await this.#act(chat.id, peer, current?.state === "asked-me" ? "accept" : "request");
      // Only a withdrawal crossing this request leaves nothing: say so rather than claim a state.
      if (!after) throw new SdkError("conflict", `${peer.username} withdrew meanwhile: ask again`);
      return after;
    });
  }

  /** Accepts `username`'s request; "not-asked" if they have not asked (accepting twice is fine). */
  accept(username: string): Promise<Contact> {
    return this.#answer(username, "accept", "accepted");
  }

  /** Declines `username`'s request; they may ask again later. "not-asked" if they have not asked. */
  decline(username: string): Promise<Contact> {
    return this.#answer(username, "decline", "declined");
  }

  /**
   * Ends the relation with `username`: takes back this user's request, ends an accepted contact, or
   * (for a request of theirs) declines it. Nothing if there is none.
   */
  remove(username: string): Promise<void> {
    return this.#ops.run(async () => {
      const current = await this.get(username);
      if (!current) return;
      const op: ContactOp = current.state === "asked-me" ? "decline" : "withdraw";
      await this.#act(await this.#chatOf(current), current, op);
    });
  }

  /** A `contact` content arrived in `chat` (the sender is MLS-authenticated). */
  async onContent(chat: string, senderId: string, content: ContactContent): Promise<void> {
    const peer = await this.#deps.directPeer(chat);
    const mine = senderId === this.#ctx.enrolment.userId;
    // Only between the two people of a direct chat: a group member cannot ask for someone else.
    if (!peer || (!mine && peer.userId !== senderId)) return;
    const { before } = await this.#apply(chat, peer, content.op, mine ? "me" : "them");
    // They lost track (a device of theirs that joined later, say) and ask again: say yes again.
    if (!mine && content.op === "request" && before?.state === "accepted")
      this.#ctx.later(async () => {
        await this.#deps.send(chat, contactContent("accept"), true);
      });
  }

  async #answer(username: string, op: "accept" | "decline", done: ContactState): Promise<Contact> {
    return this.#ops.run(async () => {
      const current = await this.get(username);
      if (current?.state === done && (op === "accept" || current.by === "me")) return current;
      if (current?.state !== "asked-me")
        throw new SdkError(
          "not-asked",
          current?.state === "accepted"
            ? `${username} is your contact already (remove them to end it)`
            : `${username} has not asked to be your contact`,
        );
      const after = await this.#act(await this.#chatOf(current), current, op);
      if (!after) throw new SdkError("conflict", `${current.username} withdrew the request meanwhile`);
      return after;
    });
  }

  /**
   * Sends the op, then records it, applied to the record as it is by then (something may have come
   * in meanwhile, which every other device sees before this op too). Returns the relation after.
   */
  async #act(
    chat: string,
    peer: { userId: string; username: string },
    op: ContactOp,
  ): Promise<Contact | undefined> {
    await this.#deps.send(chat, contactContent(op), false);
    return (await this.#apply(chat, peer, op, "me")).after;
  }

  /** Applies one op to the stored relation and tells the app if it changed. */
  async #apply(
    chat: string,
    peer: { userId: string; username: string },
    op: ContactOp,
    by: ContactSide,
  ): Promise<{ before: Contact | undefined; after: Contact | undefined }> {
    return this.#records.run(async () => {
      const before = await this.#read(peer.userId);
      const next = nextRelation(before, op, by);
      if (sameRelation(before, next)) return { before, after: before };
      const base = { username: peer.username, userId: peer.userId, chat, at: Date.now() };
      const key = StorageKeys.contact(peer.userId);
      const after: Contact | undefined = next && { ...base, ...next };
      if (after) await putJson(this.#ctx.storage, key, after);
      else await this.#ctx.storage.delete(key);
      const change: ContactChange = { ...base, state: next?.state ?? "none", by: next?.by ?? by };
      await this.#deps.noted(change);
      this.#ctx.events.emit("contact", change);
      return { before, after };
    });
  }

  #read(userId: string): Promise<Contact | undefined> {
    return getJson<Contact>(this.#ctx.storage, StorageKeys.contact(userId));
  }

  /** The chat to answer in: the newest direct chat with them (the recorded one may be gone). */
  async #chatOf(c: Contact): Promise<string> {
    return (await this.#deps.chatFor(c.username)).id;
  }
}

function contactContent(op: ContactOp): ContactContent {
  return { v: 1, type: "contact", id: newMessageId(), op, sentAt: Date.now() };
}
