const HIGHLIGHT_MS = 1600;

/** A message a search result asked to show once its chat has loaded. */
let pending: string | null = null;

/** Scrolls to a message in the open chat and flashes it; false if it is not on screen (not loaded, or gone). */
export function jumpToMessage(id: string): boolean {
  const el = document.querySelector<HTMLElement>(
    `[data-testid="message"][data-message-id="${CSS.escape(id)}"]`,
  );
  if (!el) return false;
  el.scrollIntoView({ block: "center" });
  el.classList.add("highlight");
  el.focus({ preventScroll: true });
  window.setTimeout(() => el.classList.remove("highlight"), HIGHLIGHT_MS);
  return true;
}

/** Remembers a message to show when its chat opens (see takePendingJump). */
export function requestJump(id: string): void {
  pending = id;
}

/** The message to show, if one was requested and is among `loadedIds`; it is then forgotten. */
export function takePendingJump(loadedIds: (id: string) => boolean): string | null {
  if (!pending || !loadedIds(pending)) return null;
  const id = pending;
  pending = null;
  return id;
}
