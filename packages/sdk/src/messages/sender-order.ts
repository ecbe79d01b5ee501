import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { publicView, type SystemEvent } from "./chat-store.ts";
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

/** Gaps whose lines are revised when a late message fills them; older ones keep their line as it is. */
const MAX_TRACKED_GAPS = 20;

/** The last number seen from one sender device in one chat, and the numbers still missing below it. */
type SenderCounter = { n: number; gaps?: { from: number; to: number; line: string }[] };

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

  /**
   * A message (`messageId`, numbered `seq`) arrived from `sender` in `chat`. A number seen last already
   * is the same message again (a redelivery after a crash or reload): nothing to say. A message that
   * fills a gap noted earlier makes that line smaller, and turns it into "arrived out of order" once
   * the gap is closed, so no line claims a loss that did not happen.
   */
  async arrived(
    chat: string,
    sender: { userId: string; deviceId: string },
    seq: number,
    messageId: string,
  ): Promise<void> {
    const key = StorageKeys.senderCounter(chat, sender.deviceId);
    const rec = await getJson<SenderCounter>(this.#ctx.storage, key);
    if (rec === undefined) {
      await putJson(this.#ctx.storage, key, { n: seq });
      return;
    }
    if (seq === rec.n) return;
    const gaps = rec.gaps ?? [];
    if (seq > rec.n) {
      if (seq > rec.n + 1) {
        // The line's id comes from the message that showed the gap: writing it again changes nothing.
        const line = `gap-${messageId}`;
        gaps.push({ from: rec.n + 1, to: seq - 1, line });
        await this.#note(chat, sender.userId, line, (username) => ({
          event: "messages-missing",
          userId: sender.userId,
          username,
          count: seq - rec.n - 1,
        }));
      }
      await putJson(this.#ctx.storage, key, { n: seq, gaps: gaps.slice(-MAX_TRACKED_GAPS) });
      return;
    }
    const gap = gaps.find((g) => g.from <= seq && seq <= g.to);
    if (!gap) {
      await this.#note(chat, sender.userId, `order-${messageId}`, (username) => ({
        event: "reordered",
        userId: sender.userId,
        username,
      }));
      return;
    }
    const rest = gaps.flatMap((g) =>
      g !== gap
        ? [g]
        : [
            ...(g.from < seq ? [{ from: g.from, to: seq - 1, line: g.line }] : []),
            ...(seq < g.to ? [{ from: seq + 1, to: g.to, line: g.line }] : []),
          ],
    );
    await putJson(this.#ctx.storage, key, { n: rec.n, gaps: rest });
    const count = rest.filter((g) => g.line === gap.line).reduce((sum, g) => sum + g.to - g.from + 1, 0);
    await this.#revise(chat, gap.line, count);
  }

  /** A "messages-missing" line after one of its messages arrived: fewer missing, or none (reordered). */
  async #revise(chat: string, line: string, count: number): Promise<void> {
    const m = await this.#ctx.chats.getMessage(chat, line);
    if (m?.system?.event !== "messages-missing") return;
    const { userId, username } = m.system;
    const system: SystemEvent = count > 0 ? { ...m.system, count } : { event: "reordered", userId, username };
    const updated = await this.#ctx.chats.updateMessage(chat, line, (current) =>
      current.kind === "system" ? { ...current, system } : current,
    );
    if (updated) this.#ctx.events.emit("message-updated", publicView(updated));
  }

  async #note(
    chat: string,
    userId: string,
    id: string,
    system: (username: string) => SystemEvent,
  ): Promise<void> {
    const username = await this.#directory.usernameOf(userId);
    await appendSystemLine(this.#ctx, {
      id,
      chat,
      from: username,
      fromUserId: userId,
      system: system(username),
    });
  }
}
