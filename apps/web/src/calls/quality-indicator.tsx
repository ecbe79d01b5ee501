import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { CallView } from "./call-store.ts";
import "./quality-indicator.css";

/** Signal bars for the SDK's connection-quality estimate (good / fair / poor). */
export function QualityIndicator({ quality }: { quality: CallView["quality"] }): ReactNode {
  const { t } = useI18n();
  const bars = quality === "good" ? 3 : quality === "fair" ? 2 : quality === "poor" ? 1 : 0;
  return (
    <span
      className={`call-quality quality-${quality}`}
      role="img"
      aria-label={t(`call.quality.${quality}`)}
      title={t(`call.quality.${quality}`)}
      data-testid="call-quality"
      data-quality={quality}
    >
      {[1, 2, 3].map((n) => (
        <span key={n} className={n <= bars ? "bar on" : "bar"} style={{ height: `${4 + n * 4}px` }} />
      ))}
    </span>
  );
}
