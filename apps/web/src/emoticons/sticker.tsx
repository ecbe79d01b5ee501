import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { SoriCharacter } from "./sori-character.tsx";
import { isSoriStickerId, SORI_PACK, STICKER_LABELS } from "./sori-pack.ts";
import { SORI_POSES } from "./sori-poses.tsx";
import "./sticker.css";

/**
 * One sticker, drawn as inline SVG. A sticker from a pack this app does not know (a newer client sent
 * it) shows as a labelled placeholder rather than nothing.
 */
export function Sticker({ pack, id, size = 120 }: { pack: string; id: string; size?: number }): ReactNode {
  const { t } = useI18n();
  if (pack !== SORI_PACK || !isSoriStickerId(id))
    return (
      <span className="sticker-unknown" data-testid="sticker" data-sticker={`${pack}/${id}`}>
        {t("emoticon.unknown")}
      </span>
    );
  return (
    <svg
      className="sticker"
      data-testid="sticker"
      data-sticker={`${pack}/${id}`}
      viewBox="0 0 120 120"
      width={size}
      height={size}
      role="img"
      aria-label={t(STICKER_LABELS[id])}
    >
      <SoriCharacter {...SORI_POSES[id]} />
    </svg>
  );
}
