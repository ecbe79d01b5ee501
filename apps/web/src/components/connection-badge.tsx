import type { ReactNode } from "react";
import { useConnectionState } from "../hooks/use-connection-state.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import "./connection-badge.css";
import "./connection-dot.css";

/**
 * The link to the server: a full-width "connecting…" strip under the header whenever it is down (the
 * SDK keeps reconnecting), and only a screen-reader "connected" when all is well.
 */
export function ConnectionBadge(): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const state = useConnectionState(client);
  const connected = state === "connected";
  return (
    <div
      className={connected ? "connection-badge visually-hidden" : "connection-badge"}
      data-testid="connection"
      data-state={state}
      role="status"
    >
      {!connected && <span className="connection-dot" aria-hidden="true" />}
      <span>{connected ? t("connection.connected") : t("connection.connecting")}</span>
    </div>
  );
}
