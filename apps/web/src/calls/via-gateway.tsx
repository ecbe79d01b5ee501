import type { ReactNode } from "react";
import { Icon } from "../components/icon.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import "./via-gateway.css";

/** Says, wherever a bridged call shows, that only the leg to the gateway is end-to-end encrypted. */
export function ViaGateway({ gateway }: { gateway: string }): ReactNode {
  const { t } = useI18n();
  return (
    <p className="call-via-gateway" role="note" data-testid="call-via-gateway">
      <Icon name="alert" size={16} /> {t("call.viaGateway", { gateway })}
    </p>
  );
}
