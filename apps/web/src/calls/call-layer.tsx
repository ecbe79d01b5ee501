import type { ReactNode } from "react";
import { CallScreen } from "./call-screen.tsx";
import { IncomingCall } from "./incoming-call.tsx";
import { useCallView } from "./use-call-view.ts";
import "./call-layer.css";

/**
 * Everything on screen about the call of this device: the incoming-call prompt while it rings here,
 * the call screen otherwise. Loaded on demand (the first call), so the first page load stays small.
 */
export function CallLayer(): ReactNode {
  const view = useCallView();
  if (!view) return null;
  return view.state === "ringing-in" ? <IncomingCall view={view} /> : <CallScreen view={view} />;
}
