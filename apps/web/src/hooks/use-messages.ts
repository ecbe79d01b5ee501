import type { ChatMessage, SoriClient } from "@sori/sdk";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useClientEvent } from "./use-client-event.ts";

const PAGE = 50;

export type MessagesState = {
  messages: ChatMessage[];
  /** False until the newest page of local history has been read. */
  loaded: boolean;
  /** Whether older local history may exist. */
  hasOlder: boolean;
  loadingOlder: boolean;
};

/**
 * Merges messages by id; entries already in `current` win (they came from live events). Shown in the
 * order the senders sent them, as the SDK's history is: a message the server held back goes where it
 * belongs, not at the bottom.
 */
function merge(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map<string, ChatMessage>();
  for (const m of incoming) byId.set(m.id, m);
  for (const m of current) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.sentAt - b.sentAt || a.order - b.order);
}

/**
 * One chat's messages: the newest page of local history, older pages on demand (infinite scroll),
 * and live updates from the SDK's message and status events.
 */
export function useMessages(
  client: SoriClient,
  chatId: string,
): MessagesState & { loadOlder: () => Promise<void> } {
  const [state, setState] = useState<MessagesState>({
    messages: [],
    loaded: false,
    hasOlder: false,
    loadingOlder: false,
  });
  const stateRef = useRef(state);
  useLayoutEffect(() => {
    stateRef.current = state;
  });

  useEffect(() => {
    let cancelled = false;
    setState({ messages: [], loaded: false, hasOlder: false, loadingOlder: false });
    client
      .history(chatId, { limit: PAGE })
      .then((page) => {
        if (cancelled) return;
        setState((s) => ({
          ...s,
          messages: merge(s.messages, page),
          loaded: true,
          hasOlder: page.length >= PAGE,
        }));
      })
      .catch(() => {
        if (!cancelled) setState((s) => ({ ...s, loaded: true }));
      });
    return () => {
      cancelled = true;
    };
  }, [client, chatId]);

  useClientEvent(client, "message", (m) => {
    if (m.chat !== chatId) return;
    setState((s) => {
      const others = s.messages.filter((x) => x.id !== m.id);
      return { ...s, messages: merge(others, [m]) };
    });
  });

  useClientEvent(client, "message-status", (u) => {
    if (u.chat !== chatId) return;
    setState((s) =>
      s.messages.some((m) => m.id === u.id)
        ? { ...s, messages: s.messages.map((m) => (m.id === u.id ? { ...m, status: u.status } : m)) }
        : s,
    );
  });

  // Edits, deletions for everyone, reactions and read state replace the message in place.
  useClientEvent(client, "message-updated", (m) => {
    if (m.chat !== chatId) return;
    setState((s) =>
      s.messages.some((x) => x.id === m.id)
        ? { ...s, messages: s.messages.map((x) => (x.id === m.id ? m : x)) }
        : s,
    );
  });

  // Gone from this device: its disappearing timer ran out, or it was deleted here.
  useClientEvent(client, "message-removed", (r) => {
    if (r.chat !== chatId) return;
    setState((s) =>
      s.messages.some((x) => x.id === r.id) ? { ...s, messages: s.messages.filter((x) => x.id !== r.id) } : s,
    );
  });

  const loadOlder = useCallback(async (): Promise<void> => {
    const s = stateRef.current;
    if (!s.loaded || !s.hasOlder || s.loadingOlder || s.messages.length === 0) return;
    // Pages go by local arrival order, which the display order need not follow.
    const before = Math.min(...s.messages.map((m) => m.order));
    setState((x) => ({ ...x, loadingOlder: true }));
    try {
      const page = await client.history(chatId, { limit: PAGE, before });
      setState((x) => ({
        ...x,
        messages: merge(x.messages, page),
        hasOlder: page.length >= PAGE,
        loadingOlder: false,
      }));
    } catch {
      setState((x) => ({ ...x, loadingOlder: false }));
    }
  }, [client, chatId]);

  return { ...state, loadOlder };
}
