import type { ReactNode } from "react";
import { useConnectionState } from "../hooks/use-connection-state.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./connection-dot.css";

/** A small green dot beside the app name while connected (decorative: ConnectionBadge announces). */
export function ConnectionDot(): ReactNode {
  const { client } = useSignedIn();
  const state = useConnectionState(client);
  return <span className="connection-dot" data-state={state} aria-hidden="true" />;
}
