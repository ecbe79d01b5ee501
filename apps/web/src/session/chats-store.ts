import type { ChatSummary, SoriClient } from "@sori/sdk";

/**
 * The chat list, reloaded from the SDK whenever something that changes it happens. Reloads are
 * coalesced: a burst of incoming messages costs one or two reads, not one per message.
 */
export class ChatsStore {
  readonly #client: SoriClient;
  readonly #listeners = new Set<() => void>();
  readonly #unsubscribe: (() => void)[];
  #chats: ChatSummary[] | null = null;
  #loading = false;
  #again = false;
  #disposed = false;

  constructor(client: SoriClient) {
    this.#client = client;
    const refresh = (): void => this.refresh();
    this.#unsubscribe = [
      client.on("chat", refresh),
      client.on("message", refresh),
      client.on("message-status", refresh),
      client.on("message-updated", refresh),
      client.on("message-removed", refresh),
    ];
    this.refresh();
  }

  /** The chats, newest activity first; null until the first read finished. */
  readonly getSnapshot = (): ChatSummary[] | null => this.#chats;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  refresh(): void {
    if (this.#disposed) return;
    if (this.#loading) {
      this.#again = true;
      return;
    }
    this.#loading = true;
    void this.#client
      .chats()
      .then((chats) => {
        if (this.#disposed) return;
        this.#chats = chats;
        for (const l of this.#listeners) l();
      })
      // A failed read keeps the previous list; the next event tries again.
      .catch(() => undefined)
      .finally(() => {
        this.#loading = false;
        if (this.#again) {
          this.#again = false;
          this.refresh();
        }
      });
  }

  dispose(): void {
    this.#disposed = true;
    for (const u of this.#unsubscribe) u();
    this.#listeners.clear();
  }
}
