import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { appendSystemLine } from "./system-line.ts";

/** How far a sender's signed time may run ahead of this device's clock (clocks differ a little). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** How far back a sender's signed time may lie behind the server's (an outbox resent days later). */
export const MAX_SEND_DELAY_MS = 30 * 86_400_000;

/**
 * The time a message is shown with: the sender's own (signed, inside the encryption). No later than
 * this device's clock allows (a sender cannot claim the future), and no earlier than a month before
 * the server says it took it (a sender cannot bury a message deep in the past). The server's time is
 * only that bound: a server that re-dates a delivery moves nothing, unless it claims a later time,
 * which can bring a message at most up to now.
 */
export function shownTime(senderTime: number, serverTime: number, now: number = Date.now()): number {
  if (!Number.isFinite(senderTime)) return Math.min(serverTime, now);
  return Math.min(Math.max(senderTime, serverTime - MAX_SEND_DELAY_MS), now + MAX_CLOCK_SKEW_MS);
}

/**
 * Every device numbers its durable messages per chat (1, 2, 3, … inside the encryption). Receivers
 * keep the last number seen per sender device: a jump means messages did not arrive (they expired,
 * or the server dropped them), a step back that the server reordered them. Either is written into the
 * chat, never passed over in silence.
 */
export class SenderOrder {
  readonly #ctx: Pick<DeviceContext, "storage" | "chats" | "events">;
  readonly #directory: Directory;

  constructor(ctx: Pick<DeviceContext, "storage" | "chats" | "events">, directory: Directory) {
    this.#ctx = ctx;
    this.#directory = directory;
  }

  /** The number for this device's next message in `chat` (stored before the message is encrypted). */
  async next(chat: string): Promise<number> {
    const key = StorageKeys.ownCounter(chat);
    const n = ((await getJson<{ n: number }>(this.#ctx.storage, key))?.n ?? 0) + 1;
    await putJson(this.#ctx.storage, key, { n });
    return n;
  }

  /** The server refused the message numbered `n` outright: the number can be used again, so no gap shows. */
  async release(chat: string, n: number): Promise<void> {
    const key = StorageKeys.ownCounter(chat);
    if ((await getJson<{ n: number }>(this.#ctx.storage, key))?.n === n)
      await putJson(this.#ctx.storage, key, { n: n - 1 });
  }

  /** A message numbered `seq` arrived from `sender` in `chat`. */
  async arrived(chat: string, sender: { userId: string; deviceId: string }, seq: number): Promise<void> {
    const key = StorageKeys.senderCounter(chat, sender.deviceId);
    const last = (await getJson<{ n: number }>(this.#ctx.storage, key))?.n;
    if (last === undefined || seq > last) await putJson(this.#ctx.storage, key, { n: seq });
    if (last === undefined) return;
    if (seq > last + 1) {
      await this.#note(chat, sender.userId, (username) => ({
        event: "messages-missing",
        userId: sender.userId,
        username,
        count: seq - last - 1,
      }));
    } else if (seq <= last) {
      await this.#note(chat, sender.userId, (username) => ({
        event: "reordered",
        userId: sender.userId,
        username,
      }));
    }
  }

  async #note(
    chat: string,
    userId: string,
    system: (username: string) => NonNullable<Parameters<DeviceContext["chats"]["append"]>[0]["system"]>,
  ): Promise<void> {
    const username = await this.#directory.usernameOf(userId);
    await appendSystemLine(this.#ctx, { chat, from: username, fromUserId: userId, system: system(username) });
  }
}
