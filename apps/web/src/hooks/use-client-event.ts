import type { ClientEvents, SoriClient } from "@sori/sdk";
import { useEffect, useLayoutEffect, useRef } from "react";

/** Subscribes to an SDK event for the component's lifetime; the latest handler is always called. */
export function useClientEvent<E extends keyof ClientEvents>(
  client: SoriClient,
  event: E,
  handler: ClientEvents[E],
): void {
  const ref = useRef(handler);
  useLayoutEffect(() => {
    ref.current = handler;
  });
  useEffect(() => {
    // One stable listener that forwards to the newest handler, so re-renders do not resubscribe.
    // TypeScript cannot relate a forwarding rest-parameter function to ClientEvents[E] for a generic E.
    const forward = (...args: unknown[]): void => (ref.current as (...a: unknown[]) => void)(...args);
    return client.on(event, forward as ClientEvents[E]);
  }, [client, event]);
}
