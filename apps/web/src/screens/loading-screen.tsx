import type { ReactNode } from "react";
import { Sticker } from "../emoticons/sticker.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";

export function LoadingScreen(): ReactNode {
  const { t } = useI18n();
  return (
    <div className="center-screen" role="status" aria-busy="true">
      <Sticker pack="sori" id="hello" size={96} />
      <p className="muted">{t("loading.opening")}</p>
    </div>
  );
}
