import { createContext, useContext } from "react";
import type { SignedIn } from "./session-controller.ts";

/** The signed-in device: the SDK client and the stores built on it. */
export const ClientContext = createContext<SignedIn | null>(null);

export function useSignedIn(): SignedIn {
  const value = useContext(ClientContext);
  if (!value) throw new Error("useSignedIn outside a signed-in session");
  return value;
}
