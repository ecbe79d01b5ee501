import {
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
  useEffect,
  useRef,
  useState,
  useLayoutEffect,
} from "react";
import { SORI_STICKER_IDS, type SoriStickerId, STICKER_LABELS } from "../emoticons/sori-pack.ts";
import { Sticker } from "../emoticons/sticker.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { QUICK_EMOJI } from "../lib/emoji.ts";

type Tab = "stickers" | "emoji";

/** How many grid cells share the first row: the grid's column count as CSS laid it out. */
function columns(items: HTMLElement[]): number {
  const top = items[0]?.offsetTop;
  const n = items.filter((el) => el.offsetTop === top).length;
  return Math.max(1, n);
}

/**
 * The emoticon popover: Sori stickers (sent at once) and everyday emoji (inserted in the text).
 * Arrow keys move through the grid, Home/End jump, Esc closes and returns focus to the toggle.
 */
export function EmoticonPicker({
  onSticker,
  onEmoji,
  onClose,
  toggle,
}: {
  onSticker: (id: SoriStickerId) => void;
  onEmoji: (emoji: string) => void;
  onClose: (restoreFocus: boolean) => void;
  toggle: RefObject<HTMLButtonElement | null>;
}): ReactNode {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>("stickers");
  const [active, setActive] = useState(0);
  const root = useRef<HTMLDivElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  useLayoutEffect(() => {
    onCloseRef.current = onClose;
  });

  // Closes on a click anywhere else (the toggle button handles its own clicks).
  useEffect(() => {
    const onPointer = (e: PointerEvent): void => {
      const target = e.target as Node;
      if (root.current?.contains(target) || toggle.current?.contains(target)) return;
      onCloseRef.current(false);
    };
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [toggle]);

  const cells = (): HTMLElement[] => [...(grid.current?.querySelectorAll<HTMLElement>("[data-cell]") ?? [])];

  useEffect(() => {
    cells()[0]?.focus();
    setActive(0);
  }, [tab]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose(true);
      return;
    }
    const items = cells();
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (i < 0) return;
    const cols = columns(items);
    const moves: Record<string, number> = {
      ArrowRight: i + 1,
      ArrowLeft: i - 1,
      ArrowDown: i + cols,
      ArrowUp: i - cols,
      Home: 0,
      End: items.length - 1,
    };
    const target = moves[e.key];
    if (target === undefined) return;
    e.preventDefault();
    const next = Math.min(items.length - 1, Math.max(0, target));
    items[next]?.focus();
    setActive(next);
  };

  return (
    <div
      ref={root}
      className="emoticon-picker"
      role="dialog"
      aria-label={t("composer.emoticons")}
      data-testid="emoticon-picker"
      onKeyDown={onKeyDown}
    >
      <div className="picker-tabs" role="tablist" aria-label={t("composer.emoticons")}>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "stickers"}
          data-testid="picker-tab-stickers"
          onClick={() => setTab("stickers")}
        >
          {t("picker.stickers")}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "emoji"}
          data-testid="picker-tab-emoji"
          onClick={() => setTab("emoji")}
        >
          {t("picker.emoji")}
        </button>
      </div>
      <div
        ref={grid}
        role="tabpanel"
        className={tab === "stickers" ? "picker-grid stickers" : "picker-grid emoji"}
      >
        {tab === "stickers"
          ? SORI_STICKER_IDS.map((id, i) => (
              <button
                key={id}
                type="button"
                data-cell=""
                className="picker-cell"
                data-testid="emoticon-option"
                data-sticker-id={id}
                tabIndex={i === active ? 0 : -1}
                aria-label={t(STICKER_LABELS[id])}
                title={t(STICKER_LABELS[id])}
                onClick={() => onSticker(id)}
              >
                <Sticker pack="sori" id={id} size={64} />
              </button>
            ))
          : QUICK_EMOJI.map((emoji, i) => (
              <button
                key={emoji}
                type="button"
                data-cell=""
                className="picker-cell emoji-cell"
                data-testid="emoji-option"
                tabIndex={i === active ? 0 : -1}
                onClick={() => onEmoji(emoji)}
              >
                {emoji}
              </button>
            ))}
      </div>
    </div>
  );
}
