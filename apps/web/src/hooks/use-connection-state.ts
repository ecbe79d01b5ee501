import type { SoriClient } from "@sori/sdk";
import { useCallback, useSyncExternalStore } from "react";

export type ConnectionState = "connecting" | "connected" | "disconnected";

/** The live link state of the client, for the header badge. */
export function useConnectionState(client: SoriClient): ConnectionState {
  const subscribe = useCallback((onChange: () => void) => client.on("connection", onChange), [client]);
  return useSyncExternalStore(subscribe, () => client.connectionState);
}
