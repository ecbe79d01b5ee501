import { toBase64Url } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import type { ChatList, ChatSummary } from "../groups/chat-list.ts";
import type { Content, PhoneLineChange, PhoneLineWire } from "../messages/content.ts";
import { newMessageId } from "../messages/message-id.ts";
import type { Profiles } from "./profiles.ts";

/** Lines one person may have (the profile that lists them travels in every chat). */
export const MAX_PHONE_LINES = 5;
const MAX_LINE_NAME_CHARS = 32;
/** How long `add` waits for the gateway to take the line. */
const ADD_TIMEOUT_MS = 20_000;

/** A person's own SIP phone, hosted by a gateway: it rings with their devices and calls as them. */
export type PhoneLine = PhoneLineWire;

/** What a phone is configured with; the password is shown once and kept nowhere but the gateway's digests. */
export type PhoneLineSettings = {
  line: PhoneLine;
  /** The phone's own address (its "user" and "domain"), e.g. sip:alice@sip.example.org:5060. */
  aor: string;
  /** The digest user name (auth user) and password. */
  authUser: string;
  password: string;
  /** Where the phone registers, e.g. sip:sip.example.org:5060. */
  registrar: string;
};

/** A gateway's side: someone asks it to host (or drop) a phone line of theirs. */
export type PhoneLineRequest = {
  chat: string;
  from: { userId: string; username: string };
  change: Extract<PhoneLineChange, { op: "add" | "remove" }>;
};

type Waiter = {
  gatewayId: string;
  resolve: (c: Extract<PhoneLineChange, { op: "ready" | "refused" }>) => void;
};

/**
 * Phone lines: SIP phones a person registers at a Sori SIP gateway as one of their "devices". The
 * phone cannot be an MLS member, so the line is not one either: the person's profile lists it (shared
 * encrypted with their chat partners, never with the server), callers ring it through the gateway
 * beside the person's devices, and the gateway gets the digest password inside MLS.
 */
export class PhoneLines {
  readonly #ctx: DeviceContext;
  readonly #deps: PhoneLinesDeps;
  readonly #waiters = new Map<string, Waiter>();

  constructor(ctx: DeviceContext, deps: PhoneLinesDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** This person's lines. */
  list(): Promise<PhoneLine[]> {
    return this.#deps.profiles.ownLines();
  }

  /**
   * Asks `gateway` (a gateway account's username) to host a new line and waits until it does. The
   * returned password is not stored anywhere on this side: show it once.
   */
  async add(o: { gateway: string; name?: string; timeoutMs?: number }): Promise<PhoneLineSettings> {
    const name = (o.name ?? "phone").trim();
    if (name.length === 0 || name.length > MAX_LINE_NAME_CHARS)
      throw new SdkError("bad-request", `a line's name has 1 to ${MAX_LINE_NAME_CHARS} characters`);
    const lines = await this.list();
    if (lines.length >= MAX_PHONE_LINES)
      throw new SdkError("bad-request", `at most ${MAX_PHONE_LINES} phone lines: remove one first`, {
        limit: MAX_PHONE_LINES,
      });
    if (lines.some((l) => l.name.toLowerCase() === name.toLowerCase()))
      throw new SdkError("conflict", `there is already a line named "${name}"`);
    const { chatId, gateway } = await this.#gatewayChat(o.gateway);
    const id = randomToken(12);
    const password = randomToken(18);
    const answer = new Promise<Extract<PhoneLineChange, { op: "ready" | "refused" }>>((resolve) => {
      this.#waiters.set(id, { gatewayId: gateway.userId, resolve });
    });
    const timeoutMs = o.timeoutMs ?? ADD_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      await this.#change(chatId, { op: "add", line: { id, name }, password });
      const reply = await Promise.race([answer, timedOut]);
      if (!reply) {
        // The gateway may still take it later: take it back, so no credential exists that no profile lists.
        const revoked = await this.#change(chatId, { op: "remove", line: { id } }).then(
          () => true,
          () => false,
        );
        throw new SdkError(
          "timeout",
          `${gateway.username} did not answer within ${Math.round(timeoutMs / 1000)} s (is the gateway running?); ` +
            (revoked
              ? "no line was added"
              : "no line was added here, but the gateway may still take it when it comes back: add a line again later"),
        );
      }
      if (reply.op === "refused")
        throw new SdkError("forbidden", `${gateway.username} refused the line: ${reply.reason}`, {
          reason: reply.reason,
        });
      const line: PhoneLine = { id, name, gateway };
      await this.#deps.profiles.setLines([...(await this.list()), line]);
      return { line, aor: reply.aor, authUser: reply.authUser, password, registrar: reply.registrar };
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(id);
    }
  }

  /** Removes a line (by id or name): the gateway drops its registration at once, callers stop ringing it. */
  async remove(idOrName: string): Promise<PhoneLine> {
    const lines = await this.list();
    const line = lines.find((l) => l.id === idOrName || l.name.toLowerCase() === idOrName.toLowerCase());
    if (!line) throw new SdkError("not-found", `no phone line "${idOrName}"`);
    // Out of the profile first, whatever the gateway does: callers stop ringing it.
    await this.#deps.profiles.setLines(lines.filter((l) => l.id !== line.id));
    try {
      const { chatId } = await this.#gatewayChat(line.gateway.username, { mustBeGateway: false });
      await this.#change(chatId, { op: "remove", line: { id: line.id } });
    } catch (error) {
      this.#ctx.warn(
        "phone-line-not-revoked",
        `${line.gateway.username} could not be told to drop the line "${line.name}" (${(error as SdkError).message}): its phone may stay registered until the gateway hears of it`,
      );
    }
    return line;
  }

  /** A gateway answers a PhoneLineRequest (ready, with the phone's settings, or refused). */
  async reply(chat: string, change: Extract<PhoneLineChange, { op: "ready" | "refused" }>): Promise<void> {
    await this.#change(chat, change);
  }

  /** A sip-line content arrived (the sender is MLS-authenticated). */
  async onChange(chat: string, senderId: string, change: PhoneLineChange): Promise<void> {
    // This person's other devices see their own requests (and the password in them): nothing to do.
    if (senderId === this.#ctx.enrolment.userId) return;
    if (change.op === "ready" || change.op === "refused") {
      const w = this.#waiters.get(change.line.id);
      if (w && w.gatewayId === senderId) w.resolve(change);
      return;
    }
    const from = await this.#deps.chatList.directPeer(chat);
    // Only in the direct chat with the line's owner: a group member cannot ask for someone else.
    if (!from || from.userId !== senderId) return;
    this.#ctx.events.emit("phone-line", { chat, from, change });
  }

  async #gatewayChat(
    gateway: string,
    o: { mustBeGateway: boolean } = { mustBeGateway: true },
  ): Promise<{ chatId: string; gateway: PhoneLine["gateway"] }> {
    const chat = await this.#deps.chatFor(gateway);
    const peer = chat.kind === "direct" ? await this.#deps.chatList.directPeer(chat.id) : undefined;
    if (!peer) throw new SdkError("bad-request", "a phone line's gateway is an account name, not a group");
    if (o.mustBeGateway && !(await this.#deps.isGateway(peer.userId)))
      throw new SdkError(
        "not-a-gateway",
        `${peer.username} is not a gateway on this server (its operator marks gateways)`,
      );
    await this.#deps.chatList.requireChat(chat.id);
    return { chatId: chat.id, gateway: peer };
  }

  async #change(chat: string, change: PhoneLineChange): Promise<void> {
    await this.#deps.send(chat, { v: 1, type: "sip-line", id: newMessageId(), change });
  }
}

type PhoneLinesDeps = {
  profiles: Profiles;
  isGateway(userId: string): Promise<boolean>;
  chatList: ChatList;
  chatFor(target: string): Promise<ChatSummary>;
  send(chat: string, content: Content): Promise<number>;
};

/** Unguessable and easy to type into a phone: base64url of `bytes` random bytes. */
function randomToken(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}
