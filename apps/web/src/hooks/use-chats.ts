import type { ChatSummary } from "@sori/sdk";
import { useSyncExternalStore } from "react";
import { useSignedIn } from "../session/client-context.ts";

/** Every chat, newest activity first; null while the first read is under way. */
export function useChats(): ChatSummary[] | null {
  const { chats } = useSignedIn();
  return useSyncExternalStore(chats.subscribe, chats.getSnapshot);
}
