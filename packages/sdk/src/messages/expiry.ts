import type { DeviceContext } from "../device/device-context.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { ChatMessage } from "./chat-store.ts";

/** setTimeout cannot wait more than ~24 days: long timers are re-armed in steps of this. */
const MAX_TIMER_STEP_MS = 3_600_000;
/** A sweep runs this long after the due time, so the message is past it for sure. */
const SWEEP_SLACK_MS = 20;

/** Whether a message's disappearing timer has run out. */
export function isExpired(m: ChatMessage): boolean {
  return m.expiresAt !== undefined && m.expiresAt <= Date.now();
}

/**
 * Disappearing messages on this device: deletes those whose timer ran out, and keeps one timer armed
 * for the next one. No timer runs before start() or after stop().
 */
export class Expiry {
  readonly #ctx: Pick<DeviceContext, "chats" | "storage" | "events" | "warn">;
  readonly #emitChat: (chat: string) => Promise<void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nextSweepAt = 0;
  #stopped = true;

  constructor(
    ctx: Pick<DeviceContext, "chats" | "storage" | "events" | "warn">,
    emitChat: (chat: string) => Promise<void>,
  ) {
    this.#ctx = ctx;
    this.#emitChat = emitChat;
  }

  /** Deletes what expired while the app was closed and arms the timer. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.sweep();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Deletes messages whose disappearing timer ran out, then waits for the next one. */
  async sweep(): Promise<void> {
    const { chats, storage, events } = this.#ctx;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const gone = await chats.expired(Date.now());
    const changed = new Set<string>();
    for (const { chat, id } of gone) {
      await storage.delete(StorageKeys.file(chat, id));
      if (await chats.removeMessage(chat, id)) {
        events.emit("message-removed", { chat, id });
        changed.add(chat);
      }
    }
    for (const chat of changed) await this.#emitChat(chat);
    const next = await chats.nextExpiry();
    if (next !== undefined) this.schedule(next);
  }

  /** Makes sure a sweep runs at `at` (ms since epoch). */
  schedule(at: number): void {
    if (this.#stopped) return;
    if (this.#timer && this.#nextSweepAt <= at) return;
    clearTimeout(this.#timer);
    this.#nextSweepAt = at;
    const delay = Math.min(Math.max(0, at - Date.now()) + SWEEP_SLACK_MS, MAX_TIMER_STEP_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.sweep().catch((e: unknown) =>
        this.#ctx.warn("expiry-failed", `could not delete expired messages: ${(e as Error).message}`),
      );
    }, delay);
  }
}
