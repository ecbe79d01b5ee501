import type { ReactNode } from "react";
import type { SafetyChange } from "../hooks/use-safety-changes.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useConversationSafety } from "./conversation-safety-context.ts";
import { Icon } from "./icon.tsx";
import "./safety-change-banner.css";

/**
 * Above the composer while a member's safety number changed and is not accepted: the SDK sends
 * nothing to the chat until then, so the person checks the new number (View) or accepts it.
 */
export function SafetyChangeBanner({ changes }: { changes: SafetyChange[] }): ReactNode {
  const { t } = useI18n();
  const safety = useConversationSafety();
  if (changes.length === 0) return null;
  return (
    <div className="safety-banner" role="alert" data-testid="safety-banner">
      {changes.map((c) => (
        <div key={c.userId} className="safety-banner-row" data-username={c.username}>
          <Icon name="warning" size={18} />
          <p>{t("system.identityChanged", { name: c.username })}</p>
          <div className="safety-banner-actions">
            <button
              type="button"
              className="button small"
              data-testid="safety-banner-view"
              onClick={() => safety.openSafety(c.username)}
            >
              {t("safety.view")}
            </button>
            <button
              type="button"
              className="button small primary"
              data-testid="safety-banner-accept"
              aria-label={t("safety.acceptNamed", { name: c.username })}
              disabled={safety.accepting === c.username}
              onClick={() => safety.acceptChange(c.username)}
            >
              {t("safety.accept")}
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}
