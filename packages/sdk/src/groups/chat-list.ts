import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import { SdkError } from "../errors.ts";
import type { ChatMessage, ChatRecord } from "../messages/chat-store.ts";

/** A chat as this device knows it. The id is the MLS group id. */
export type ChatSummary = {
  id: string;
  kind: "direct" | "group";
  /** The group's name, or for a direct chat the other person's username. */
  name: string;
  /** Usernames of the members, this user included, sorted. */
  members: string[];
  /** User ids of the members, in the same order as `members`. */
  memberIds: string[];
  lastMessageAt: number | null;
  lastMessage: ChatMessage | null;
  /** Incoming messages since the last markRead(). */
  unread: number;
  /** False once this device was removed from the chat or left it. */
  active: boolean;
  /** Disappearing-message timer in seconds; 0 = off. */
  timer: number;
};

/** The chats of this device as the app lists them: summaries, look-ups, the "chat" event. */
export class ChatList {
  readonly #ctx: Pick<DeviceContext, "chats" | "groups" | "events" | "enrolment">;
  readonly #directory: Directory;

  constructor(ctx: Pick<DeviceContext, "chats" | "groups" | "events" | "enrolment">, directory: Directory) {
    this.#ctx = ctx;
    this.#directory = directory;
  }

  /** Every chat this device knows, most recently active first. */
  async chats(): Promise<ChatSummary[]> {
    const out: ChatSummary[] = [];
    for (const rec of await this.#ctx.chats.listChats()) out.push(await this.#summary(rec));
    return out.sort((a, b) => (b.lastMessageAt ?? 0) - (a.lastMessageAt ?? 0));
  }

  /** The summary of a chat this device has; "unknown-chat" otherwise. */
  async summaryOf(chatId: string): Promise<ChatSummary> {
    const rec = await this.#ctx.chats.getChat(chatId);
    if (!rec) throw new SdkError("unknown-chat", `no chat ${chatId} on this device`);
    return this.#summary(rec);
  }

  async #summary(rec: ChatRecord): Promise<ChatSummary> {
    // Persisted with the chat since member lists are kept there; older records read the MLS state once.
    const userIds = rec.active ? (rec.memberIds ?? (await this.#ctx.groups.memberUserIds(rec.id))) : [];
    const named: { userId: string; username: string }[] = [];
    for (const userId of userIds) named.push({ userId, username: await this.#directory.usernameOf(userId) });
    named.sort((a, b) => a.username.localeCompare(b.username));
    let name = rec.name ?? "";
    if (rec.kind === "direct") {
      const other = named.find((m) => m.userId !== this.#ctx.enrolment.userId);
      name = other?.username ?? rec.name ?? "";
    }
    return {
      id: rec.id,
      kind: rec.kind,
      name,
      members: named.map((m) => m.username),
      memberIds: named.map((m) => m.userId),
      lastMessageAt: rec.lastMessageAt,
      lastMessage: rec.lastMessage,
      unread: rec.unread,
      active: rec.active,
      timer: rec.timer ?? 0,
    };
  }

  /** Tells the app a chat changed (the "chat" event). */
  async emitChat(id: string): Promise<void> {
    const rec = await this.#ctx.chats.getChat(id);
    if (rec) this.#ctx.events.emit("chat", await this.#summary(rec));
  }

  /** Keeps the chat's persisted member list in step with its MLS state (GroupStates reports changes). */
  async membersChanged(chatId: string, userIds: string[]): Promise<void> {
    const rec = await this.#ctx.chats.getChat(chatId);
    if (!rec || sameList(rec.memberIds, userIds)) return;
    await this.#ctx.chats.updateChat(chatId, { memberIds: userIds });
  }

  /** Finds a chat by id, or the newest active direct chat with a username. */
  async findChat(idOrUsername: string): Promise<ChatSummary | undefined> {
    const rec = await this.#ctx.chats.getChat(idOrUsername);
    if (rec) return this.#summary(rec);
    const lower = idOrUsername.toLowerCase();
    return (await this.chats()).find(
      (c) => c.kind === "direct" && c.active && c.name.toLowerCase() === lower,
    );
  }

  /** The chat record; "unknown-chat" if this device has none, "not-member" if it left or was removed. */
  async requireChat(chatId: string): Promise<ChatRecord> {
    const rec = await this.#ctx.chats.getChat(chatId);
    if (!rec) throw new SdkError("unknown-chat", `no chat ${chatId} on this device`);
    if (!rec.active) throw new SdkError("not-member", "this device is no longer a member of that chat");
    return rec;
  }

  /** The other member of a direct chat; undefined for groups, inactive and unknown chats. */
  async directPeer(chatId: string): Promise<{ userId: string; username: string } | undefined> {
    const rec = await this.#ctx.chats.getChat(chatId);
    if (!rec?.active || rec.kind !== "direct" || !(await this.#ctx.groups.has(chatId))) return undefined;
    const others = [...(await this.#ctx.groups.otherUserIds(chatId, this.#ctx.enrolment.userId))];
    if (others.length !== 1) return undefined;
    return { userId: others[0]!, username: await this.#directory.usernameOf(others[0]!) };
  }
}

function sameList(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
