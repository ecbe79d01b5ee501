import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { DistributiveOmit } from "../util/distributive-omit.ts";
import { Mutex } from "../util/mutex.ts";
import type { ContactState } from "../features/contact-rules.ts";
import type { PhoneLineWire } from "./content.ts";

export type MessageStatus = "sending" | "sent" | "delivered" | "failed";

/** A call as chat history shows it: `missed` is an incoming call nobody answered (or declined). */
export type CallEntry = {
  callId: string;
  media: "audio" | "video";
  direction: "outgoing" | "incoming";
  outcome: "answered" | "declined" | "busy" | "no-answer" | "cancelled" | "failed";
  missed: boolean;
  durationS: number;
};

/** What the app may show of an attachment (the key stays inside the SDK). */
export type FileInfo = {
  name: string;
  mime: string;
  size: number;
  /** A small preview image, standard base64 (e.g. for a data: URL). */
  thumbnail?: string;
  width?: number;
  height?: number;
  durationS?: number;
  voice?: boolean;
};

/** An entry the SDK writes into a chat by itself. */
export type SystemEvent =
  | { event: "timer"; seconds: number; by: string }
  /** Before account keys: a contact's devices changed (in old history only). */
  | { event: "devices-changed"; userId: string; username: string }
  /** A contact's account key changed: nothing is sent to them until the change is accepted. */
  | { event: "identity-changed"; userId: string; username: string }
  /** This user accepted a contact's new account key. */
  | { event: "identity-accepted"; userId: string; username: string }
  /** The server offered a device the user's account did not sign in; it was not added. */
  | { event: "device-refused"; userId: string; username: string; deviceId: string; reason: string }
  /** This device missed changes to the chat and was re-added: what was sent meanwhile is lost to it. */
  | { event: "rejoined" }
  /** Messages from a member's device did not arrive (they expired, or the server dropped them). */
  | { event: "messages-missing"; userId: string; username: string; count: number }
  /** Messages from a member arrived in another order than they were sent (the server reordered them). */
  | { event: "reordered"; userId: string; username: string }
  /**
   * A contact relation with the chat's other person changed (`by` whom): a request (`asked-me`,
   * `asked-them`), its answer, or its end (`none`). See features/contacts.ts.
   */
  | {
      event: "contact";
      userId: string;
      username: string;
      state: ContactState | "none";
      by: "me" | "them";
    };

/** A sticker in a message: its pack and its id in the pack. */
export type StickerRef = { pack: string; id: string };
/** A sticker pack shared in a chat; addStickerPack(chat, id) installs it. */
export type SharedPack = { id: string; name: string; count: number };

type PayloadKey = "sticker" | "call" | "file" | "stickerPack" | "system";
// The other kinds' fields are declared absent (not just left out) so that `m.file?.name` still reads
// on any message while `m.kind === "file"` narrows `m.file` to present.
type Absent<K extends PayloadKey> = { [P in K]?: undefined };
type Carrying<Kind extends string, Fields extends Partial<Record<PayloadKey, unknown>>> = {
  kind: Kind;
} & Fields &
  Absent<Exclude<PayloadKey, keyof Fields>> & { deleted?: false };

/** What a message carries, by kind. */
export type MessagePayload =
  | Carrying<"text", Record<never, never>>
  | Carrying<"sticker", { sticker: StickerRef }>
  /** A call in this chat (see docs/SDK.md "Calls"). */
  | Carrying<"call", { call: CallEntry }>
  | Carrying<"file", { file: FileInfo }>
  | Carrying<"sticker-pack", { stickerPack: SharedPack }>
  | Carrying<"system", { system: SystemEvent }>;

/** Deleted for everyone: the kind stays, the text, file, sticker and reactions are gone. */
export type DeletedPayload = { kind: DeletableKind; deleted: true } & Absent<PayloadKey>;
export type DeletableKind = "text" | "sticker" | "file" | "sticker-pack";

/** Everything a message has whatever its kind. */
export type MessageMeta = {
  id: string;
  chat: string;
  /** Sender's username. */
  from: string;
  fromUserId: string;
  /** The text (a file's caption); "" for stickers, calls and deleted messages. */
  text: string;
  /**
   * The quoted message (a snippet of it), from this device's own copy when it has one; `mismatch` when
   * the sender's quote said something else (another author or text: show it as not matching).
   */
  replyTo?: { id: string; from: string; fromUserId: string; text: string; mismatch?: boolean };
  /** Emoji → user ids who reacted with it. */
  reactions?: Record<string, string[]>;
  edited?: boolean;
  /** Outgoing: every other member has read it (they send read receipts unless switched off). */
  read?: boolean;
  /**
   * Outgoing: members on another network whose gateway could not pass it on, with the reason that
   * network gave ("failed" once every other member is here).
   */
  undelivered?: { userId: string; username: string; reason: string }[];
  forwarded?: boolean;
  /** Disappearing timer (seconds) the sender set; counted from when it is read. */
  expiresIn?: number;
  /** When it disappears (ms since epoch), once its timer runs. */
  expiresAt?: number;
  /**
   * When it was sent (ms since epoch): the sender's own time, carried inside the encryption and bounded
   * by the server's time of receipt (see sender-order.ts); history is ordered by it.
   */
  sentAt: number;
  outgoing: boolean;
  /** Incoming messages are "delivered". */
  status: MessageStatus;
  /** Local order of arrival; pass as `before` to page back through history. */
  order: number;
};

/** A message in a chat as the app shows it: `kind` says which payload field it has. */
export type ChatMessage = MessageMeta & (MessagePayload | DeletedPayload);

/** What is stored per message: the public shape plus who has confirmed delivery and reading. */
export type StoredMessage = ChatMessage & StoredExtras;
type StoredExtras = {
  deliveredTo?: string[];
  readBy?: string[];
  /** Attachment reference (key and hash), base64 fields as in the content. */
  fileRef?: FileRefStored;
  /** kind "sticker-pack": the shared manifest (with the images' keys). */
  packManifest?: { id: string; name: string; stickers: { id: string; file: FileRefStored }[] };
};
/** A message about to be stored: everything but its local order, which the store gives it. */
export type NewMessage = DistributiveOmit<StoredMessage, "order">;

/** What the stored fields every kind has may change to; a function changes a message's payload. */
export type MessagePatch =
  Partial<Omit<MessageMeta, "id" | "chat" | "order"> & StoredExtras> | ((m: StoredMessage) => StoredMessage);

/** What the app sees of an attachment, plus where it is and how to open it (key and hash, base64). */
export type FileRefStored = FileInfo & { blobId: string; key: string; hash: string };

/** What this device keeps per chat. */
export type ChatRecord = {
  id: string;
  kind: "direct" | "group";
  name: string | null;
  createdAt: number;
  lastMessageAt: number | null;
  lastMessage: ChatMessage | null;
  unread: number;
  active: boolean;
  /** Disappearing timer in seconds; 0 = off. */
  timer?: number;
  /** Server time of the newest incoming message this device marked read (for read receipts). */
  readUpTo?: number;
  /** User ids of the members per this device's MLS state (kept in step by GroupStates); absent in old records. */
  memberIds?: string[];
};

export type Profile = {
  displayName: string | null;
  avatar: string | null;
  /** Phone lines the user listed (absent: never shared any). */
  lines?: PhoneLineWire[];
};

/**
 * This device's chats, message history, receive feed and known profiles, on top of ClientStorage.
 * Keys hold only ids and counters; content lives in values (which the browser storage encrypts).
 */
export class ChatStore {
  readonly #storage: ClientStorage;
  // Read-modify-write of the counter and of chat records must not interleave (sends and incoming
  // messages append concurrently).
  readonly #writes = new Mutex();

  constructor(storage: ClientStorage) {
    this.#storage = storage;
  }

  getChat(id: string): Promise<ChatRecord | undefined> {
    return getJson<ChatRecord>(this.#storage, StorageKeys.chat(id)).then((r) => r && withDefaults(r));
  }

  putChat(rec: ChatRecord): Promise<void> {
    return this.#writes.run(() => putJson(this.#storage, StorageKeys.chat(rec.id), rec));
  }

  updateChat(id: string, patch: Partial<ChatRecord>): Promise<ChatRecord | undefined> {
    return this.#writes.run(async () => {
      const rec = await this.getChat(id);
      if (!rec) return undefined;
      const next = { ...rec, ...patch };
      await putJson(this.#storage, StorageKeys.chat(id), next);
      return next;
    });
  }

  async listChats(): Promise<ChatRecord[]> {
    const out: ChatRecord[] = [];
    for (const key of await this.#storage.list(StorageKeys.chats)) {
      const rec = await getJson<ChatRecord>(this.#storage, key);
      if (rec) out.push(withDefaults(rec));
    }
    return out;
  }

  async #nextOrder(): Promise<number> {
    const state = (await getJson<{ counter: number }>(this.#storage, StorageKeys.counter)) ?? { counter: 0 };
    state.counter++;
    await putJson(this.#storage, StorageKeys.counter, state);
    return state.counter;
  }

  /**
   * Appends a message to its chat's history (and, for incoming ones, to the receive feed), and updates
   * the chat's preview and unread count. Returns the message with its order.
   */
  append(m: NewMessage, options: { feed: boolean; unread: boolean }): Promise<ChatMessage> {
    return this.#writes.run(() => this.#append(m, options));
  }

  async #append(m: NewMessage, options: { feed: boolean; unread: boolean }): Promise<ChatMessage> {
    // The same message twice (a redelivery after a crash) is stored once. The index says where: it is
    // written first marked pending and last without the mark, so a crash in between leaves the mark,
    // and the redelivery writes the same keys again at the same order (neither a second copy nor a
    // stored message missing from the receive feed, which nothing would repair).
    const indexKey = StorageKeys.messageIndex(m.chat, m.id);
    const index = await getJson<{ order: number; pending?: true }>(this.#storage, indexKey);
    if (index && !index.pending) {
      const existing = await getJson<StoredMessage>(
        this.#storage,
        StorageKeys.historyEntry(m.chat, index.order),
      );
      if (existing) return publicView(existing);
    }
    const order = index?.order ?? (await this.#nextOrder());
    if (!index) await putJson(this.#storage, indexKey, { order, pending: true });
    const message: StoredMessage = { ...m, order };
    await putJson(this.#storage, StorageKeys.historyEntry(m.chat, order), message);
    if (options.feed) await putJson(this.#storage, StorageKeys.feedEntry(order), publicView(message));
    if (message.expiresAt !== undefined)
      await this.#storage.put(StorageKeys.expiry(message.expiresAt, m.chat, m.id), new Uint8Array(0));
    const rec = await this.getChat(m.chat);
    if (rec) {
      await putJson(this.#storage, StorageKeys.chat(m.chat), {
        ...rec,
        lastMessage: publicView(message),
        lastMessageAt: Math.max(rec.lastMessageAt ?? 0, message.sentAt),
        // After a crash here and the redo, one more than there is: a badge, not a message, is off.
        unread: rec.unread + (options.unread ? 1 : 0),
      });
    }
    await putJson(this.#storage, indexKey, { order });
    return publicView(message);
  }

  async getMessage(chat: string, id: string): Promise<StoredMessage | undefined> {
    const idx = await getJson<{ order: number }>(this.#storage, StorageKeys.messageIndex(chat, id));
    return idx ? getJson<StoredMessage>(this.#storage, StorageKeys.historyEntry(chat, idx.order)) : undefined;
  }

  /** Changes a stored message (e.g. its status); keeps the chat preview in step. */
  updateMessage(chat: string, id: string, patch: MessagePatch): Promise<StoredMessage | undefined> {
    return this.#writes.run(() => this.#updateMessage(chat, id, patch));
  }

  async #updateMessage(chat: string, id: string, patch: MessagePatch): Promise<StoredMessage | undefined> {
    const current = await this.getMessage(chat, id);
    if (!current) return undefined;
    const next: StoredMessage = typeof patch === "function" ? patch(current) : { ...current, ...patch };
    await putJson(this.#storage, StorageKeys.historyEntry(chat, current.order), next);
    // Not yet taken from the receive feed: the feed shows the changed message (an edit, a deletion).
    if (await this.#storage.get(StorageKeys.feedEntry(current.order)))
      await putJson(this.#storage, StorageKeys.feedEntry(current.order), publicView(next));
    if (next.expiresAt !== undefined && next.expiresAt !== current.expiresAt)
      await this.#storage.put(StorageKeys.expiry(next.expiresAt, chat, id), new Uint8Array(0));
    const rec = await this.getChat(chat);
    if (rec?.lastMessage?.id === id) {
      await putJson(this.#storage, StorageKeys.chat(chat), {
        ...rec,
        lastMessage: publicView(next),
        lastMessageAt: Math.max(rec.lastMessageAt ?? 0, next.sentAt),
      });
    }
    return next;
  }

  /** Deletes a message everywhere on this device (history, feed, expiry index); fixes the preview. */
  removeMessage(chat: string, id: string): Promise<boolean> {
    return this.#writes.run(async () => {
      const current = await this.getMessage(chat, id);
      if (!current) return false;
      await this.#storage.delete(StorageKeys.historyEntry(chat, current.order));
      await this.#storage.delete(StorageKeys.messageIndex(chat, id));
      await this.#storage.delete(StorageKeys.feedEntry(current.order));
      if (current.expiresAt !== undefined)
        await this.#storage.delete(StorageKeys.expiry(current.expiresAt, chat, id));
      const rec = await this.getChat(chat);
      if (rec?.lastMessage?.id === id) {
        const [last] = await this.history(chat, { limit: 1 });
        await putJson(this.#storage, StorageKeys.chat(chat), { ...rec, lastMessage: last ?? null });
      }
      return true;
    });
  }

  /** Messages whose disappearing timer ran out by `now`. */
  async expired(now: number): Promise<{ chat: string; id: string }[]> {
    const bound = StorageKeys.expiryBound(now);
    const out: { chat: string; id: string }[] = [];
    for (const key of await this.#storage.list(StorageKeys.expiries)) {
      if (key > bound) break;
      const [, , chat, id] = key.split("/");
      if (chat && id) out.push({ chat, id });
      await this.#storage.delete(key);
    }
    return out;
  }

  /** The earliest pending expiry time, if any. */
  async nextExpiry(): Promise<number | undefined> {
    const [first] = await this.#storage.list(StorageKeys.expiries);
    return first ? Number(first.split("/")[1]) : undefined;
  }

  /** Local full-text search: messages whose text or file name contains `query` (case-insensitive), newest first. */
  async search(query: string, options: { chat?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    const needle = query.trim().toLocaleLowerCase();
    if (needle.length === 0) return [];
    const limit = options.limit ?? 50;
    const chats = options.chat ? [options.chat] : (await this.listChats()).map((c) => c.id);
    const out: ChatMessage[] = [];
    for (const chat of chats) {
      for (const k of await this.#storage.list(StorageKeys.history(chat))) {
        const m = await getJson<StoredMessage>(this.#storage, k);
        if (!m || m.deleted || m.kind === "system") continue;
        const hay = `${m.text}\n${m.file?.name ?? ""}`.toLocaleLowerCase();
        if (hay.includes(needle)) out.push(publicView(m));
      }
    }
    return out.sort((a, b) => b.sentAt - a.sentAt).slice(0, limit);
  }

  /** Up to `limit` messages before `before` (exclusive), oldest first. */
  async history(chat: string, options: { limit?: number; before?: number } = {}): Promise<ChatMessage[]> {
    let keys = await this.#storage.list(StorageKeys.history(chat));
    if (options.before !== undefined) {
      const bound = StorageKeys.historyEntry(chat, options.before);
      keys = keys.filter((k) => k < bound);
    }
    if (options.limit !== undefined) keys = keys.slice(-options.limit);
    const out: ChatMessage[] = [];
    for (const k of keys) {
      const m = await getJson<StoredMessage>(this.#storage, k);
      if (m) out.push(publicView(m));
    }
    // Shown in the order the senders sent them (a message the server held back goes where it belongs).
    return out.sort((a, b) => a.sentAt - b.sentAt || a.order - b.order);
  }

  /** Incoming messages since the last call, oldest first; each is returned once. */
  takeFeed(): Promise<ChatMessage[]> {
    return this.#writes.run(() => this.#takeFeed());
  }

  /** Incoming messages not yet taken, oldest first, left in the feed (see dropFeed). */
  async peekFeed(): Promise<ChatMessage[]> {
    const out: ChatMessage[] = [];
    for (const k of await this.#storage.list(StorageKeys.feed)) {
      const m = await getJson<ChatMessage>(this.#storage, k);
      if (m) out.push(m);
    }
    return out;
  }

  /** Removes these messages (by their local order) from the feed, once they were handled. */
  dropFeed(orders: number[]): Promise<void> {
    return this.#writes.run(async () => {
      for (const order of orders) await this.#storage.delete(StorageKeys.feedEntry(order));
    });
  }

  async #takeFeed(): Promise<ChatMessage[]> {
    const out: ChatMessage[] = [];
    for (const k of await this.#storage.list(StorageKeys.feed)) {
      const m = await getJson<ChatMessage>(this.#storage, k);
      if (m) out.push(m);
      await this.#storage.delete(k);
    }
    return out;
  }

  getProfile(userId: string): Promise<Profile | undefined> {
    return getJson<Profile>(this.#storage, StorageKeys.userProfile(userId));
  }

  putProfile(userId: string, profile: Profile): Promise<void> {
    return putJson(this.#storage, StorageKeys.userProfile(userId), profile);
  }
}

export function publicView(m: StoredMessage): ChatMessage {
  const { deliveredTo: _d, readBy: _r, fileRef: _f, packManifest: _p, ...rest } = m;
  return rest;
}

// Records written before unread counts and previews existed get neutral values.
function withDefaults(rec: ChatRecord): ChatRecord {
  return { ...rec, unread: rec.unread ?? 0, lastMessage: rec.lastMessage ?? null, timer: rec.timer ?? 0 };
}
