/** A map from event names to listener signatures, e.g. `{ message: (m: ChatMessage) => void }`. */
export type EventMap = { [event: string]: (...args: never[]) => void };

/**
 * Listeners per event with typed arguments. A listener that throws is skipped: one bad listener must
 * not stop message processing or a call for everyone else.
 */
export class TypedEmitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** Adds a listener; the returned function removes it. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Calls every listener of `event` with `args`, in the order they were added. */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<Events[E]>) => void)(...args);
      } catch {
        // Deliberately ignored (see the class comment).
      }
    }
  }
}
