import type { Call } from "@sori/sdk";
import type { ReactNode } from "react";
import { Icon } from "../components/icon.tsx";
import { useProfile } from "../hooks/use-profile.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { callLineNote } from "./line-label.ts";
import "./via-gateway.css";

/**
 * Says, wherever a bridged call shows, that only the leg to the gateway is end-to-end encrypted. A
 * person's own phone line names that person and the phone rather than the gateway account.
 */
export function ViaGateway({ call }: { call: Call }): ReactNode {
  const { t } = useI18n();
  const owner = call.lineOwner;
  const ownerProfile = useProfile(owner?.userId ?? null);
  const note = callLineNote(t, {
    direction: call.direction,
    gateway: call.peer.username,
    ...(owner ? { owner: ownerProfile.displayName ?? owner.username } : {}),
    ...(call.via?.name ? { lineName: call.via.name } : {}),
  });
  return (
    <p
      className="call-via-gateway"
      role="note"
      data-testid="call-via-gateway"
      data-line-owner={owner?.username ?? ""}
    >
      <Icon name="alert" size={16} /> {note}
    </p>
  );
}
