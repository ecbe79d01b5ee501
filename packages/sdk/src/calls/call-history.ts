import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import type { CallLogBody } from "./call-signal.ts";

/** Calls as chat history shows them: every device of both users stores a `kind: "call"` entry. */
export class CallHistory {
  readonly #ctx: Pick<DeviceContext, "chats" | "events" | "enrolment">;
  readonly #directory: Directory;
  readonly #emitChat: (chat: string) => Promise<void>;

  constructor(
    ctx: Pick<DeviceContext, "chats" | "events" | "enrolment">,
    directory: Directory,
    emitChat: (chat: string) => Promise<void>,
  ) {
    this.#ctx = ctx;
    this.#directory = directory;
    this.#emitChat = emitChat;
  }

  /** Stores a call in the chat's history (outgoing for this user's calls, incoming otherwise). */
  async append(
    chat: string,
    callerId: string,
    sentAt: number,
    log: CallLogBody & { id: string },
  ): Promise<void> {
    const outgoing = callerId === this.#ctx.enrolment.userId;
    // Declined here (or on another device of this user) is a choice, not a missed call.
    const missed = !outgoing && log.outcome !== "answered" && log.outcome !== "declined";
    const message = await this.#ctx.chats.append(
      {
        id: log.id,
        chat,
        from: await this.#directory.usernameOf(callerId),
        fromUserId: callerId,
        kind: "call",
        text: "",
        call: {
          callId: log.callId,
          media: log.media,
          direction: outgoing ? "outgoing" : "incoming",
          outcome: log.outcome,
          missed,
          durationS: log.durationS,
        },
        sentAt,
        outgoing,
        status: outgoing ? "sent" : "delivered",
      },
      { feed: !outgoing, unread: missed },
    );
    this.#ctx.events.emit("message", message);
    void this.#emitChat(chat);
  }
}
