import { createContext, useContext } from "react";

/**
 * What an open conversation knows about its members' safety numbers, for the lines and the banner
 * inside it: who changed and is not accepted yet (user ids), and the two things a person can do.
 */
export type ConversationSafety = {
  changed: ReadonlySet<string>;
  openSafety: (username: string) => void;
  acceptChange: (username: string) => void;
  /** The username whose change is being accepted right now, if any. */
  accepting: string | null;
};

export const ConversationSafetyContext = createContext<ConversationSafety | null>(null);

export function useConversationSafety(): ConversationSafety {
  const value = useContext(ConversationSafetyContext);
  if (!value) throw new Error("useConversationSafety outside a conversation");
  return value;
}
