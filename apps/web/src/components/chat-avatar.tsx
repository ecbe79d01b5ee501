import type { ChatSummary } from "@sori/sdk";
import type { ReactNode } from "react";
import { directPartner } from "../lib/chat-partner.ts";
import { useSignedIn } from "../session/client-context.ts";
import { AvatarCircle, UserAvatar } from "./avatar.tsx";

/** A direct chat shows the other person's avatar; a group its initial. */
export function ChatAvatar({ chat, size }: { chat: ChatSummary; size?: number }): ReactNode {
  const { client } = useSignedIn();
  const partner = directPartner(chat, client.userId);
  const sizeProp = size === undefined ? {} : { size };
  if (partner) return <UserAvatar userId={partner.userId} username={partner.username} {...sizeProp} />;
  return <AvatarCircle name={chat.name} seed={chat.id} imageUrl={null} {...sizeProp} />;
}
