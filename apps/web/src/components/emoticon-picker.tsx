import {
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
  useEffect,
  useRef,
  useState,
  useLayoutEffect,
} from "react";
import { SORI_STICKER_IDS, STICKER_LABELS } from "../emoticons/sori-pack.ts";
import { Sticker } from "../emoticons/sticker.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { QUICK_EMOJI } from "../lib/emoji.ts";
import { notifyStickerPacksChanged, useStickerPacks } from "../hooks/use-sticker-packs.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Icon } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";
import { UserSticker } from "./user-sticker.tsx";
import "./emoticon-picker.css";

/** The built-in set, everyday emoji, or one of this person's own or added sticker packs. */
type Tab = "stickers" | "emoji" | `pack:${string}`;

/** How many grid cells share the first row: the grid's column count as CSS laid it out. */
function columns(items: HTMLElement[]): number {
  const top = items[0]?.offsetTop;
  const n = items.filter((el) => el.offsetTop === top).length;
  return Math.max(1, n);
}

/**
 * The emoticon popover: Sori stickers and the person's own sticker packs (sent at once), everyday
 * emoji (inserted in the text), and a way to make a pack or share one in the chat.
 * Arrow keys move through the grid, Home/End jump, Esc closes and returns focus to the toggle.
 */
export function EmoticonPicker({
  chatId,
  onSticker,
  onEmoji,
  onClose,
  onCreatePack,
  toggle,
}: {
  chatId: string;
  onSticker: (sticker: { pack: string; id: string }) => void;
  onCreatePack: () => void;
  onEmoji: (emoji: string) => void;
  onClose: (restoreFocus: boolean) => void;
  toggle: RefObject<HTMLButtonElement | null>;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const packs = useStickerPacks(client);
  const [tab, setTab] = useState<Tab>("stickers");
  const pack = tab.startsWith("pack:") ? packs?.find((p) => `pack:${p.id}` === tab) : undefined;

  const sharePack = (): void => {
    if (!pack) return;
    client
      .shareStickerPack(chatId, pack.id)
      .then(() => {
        showToast(t("pack.shared", { name: pack.name }));
        onClose(true);
      })
      .catch((e: unknown) => showToast(t(errorMessageKey(e))));
  };

  const removePack = (): void => {
    if (!pack) return;
    client
      .removeStickerPack(pack.id)
      .then(() => {
        notifyStickerPacksChanged();
        showToast(t("pack.removed", { name: pack.name }));
        setTab("stickers");
      })
      .catch((e: unknown) => showToast(t(errorMessageKey(e))));
  };
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
        {packs?.map((p) => (
          <button
            key={p.id}
            type="button"
            role="tab"
            aria-selected={tab === `pack:${p.id}`}
            data-testid="picker-tab-pack"
            data-pack-name={p.name}
            onClick={() => setTab(`pack:${p.id}`)}
          >
            {p.name}
          </button>
        ))}
        <button
          type="button"
          role="tab"
          aria-selected={tab === "emoji"}
          data-testid="picker-tab-emoji"
          onClick={() => setTab("emoji")}
        >
          {t("picker.emoji")}
        </button>
        <button
          type="button"
          className="picker-add"
          data-testid="picker-create-pack"
          aria-label={t("pack.create")}
          title={t("pack.create")}
          onClick={onCreatePack}
        >
          <Icon name="plus" size={18} />
        </button>
      </div>
      <div
        ref={grid}
        role="tabpanel"
        className={tab === "emoji" ? "picker-grid emoji" : "picker-grid stickers"}
      >
        {pack
          ? pack.stickers.map((s, i) => (
              <button
                key={s.id}
                type="button"
                data-cell=""
                className="picker-cell"
                data-testid="pack-sticker-option"
                tabIndex={i === active ? 0 : -1}
                aria-label={t("pack.sticker", { name: pack.name })}
                onClick={() => onSticker({ pack: pack.id, id: s.id })}
              >
                <UserSticker pack={pack.id} id={s.id} size={64} />
              </button>
            ))
          : tab === "stickers"
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
                  onClick={() => onSticker({ pack: "sori", id })}
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
      {pack && (
        <div className="picker-footer">
          <button type="button" className="button small" data-testid="pack-share" onClick={sharePack}>
            {t("pack.share")}
          </button>
          <button type="button" className="button small danger" onClick={removePack}>
            {t("pack.remove")}
          </button>
        </div>
      )}
    </div>
  );
}
