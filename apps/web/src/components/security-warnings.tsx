import type { ReactNode } from "react";
import { useClientEvent } from "../hooks/use-client-event.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import type { MessageKey } from "../i18n/message-key.ts";
import { useSignedIn } from "../session/client-context.ts";
import { useToast } from "./toast-provider.tsx";

/** Warnings worth a toast, and whether it stays until dismissed (a possible impersonation does). */
const TOLD: Partial<Record<string, { key: MessageKey; sticky: boolean }>> = {
  "own-identity-mismatch": { key: "warning.ownIdentityMismatch", sticky: true },
  "rejoin-failed": { key: "warning.rejoinFailed", sticky: false },
};

/**
 * SDK warnings a person should hear about that have no line in a chat of their own: the server naming
 * another identity key for this very account, a chat this device could not get back into. (Refused
 * devices and reordered deliveries get their lines in the chats concerned.) And a server that no longer
 * takes this app's version.
 */
export function SecurityWarnings(): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  useClientEvent(client, "warning", (w) => {
    const told = TOLD[w.code];
    if (told) showToast(t(told.key), { sticky: told.sticky, kind: w.code });
  });
  // The server refuses this version (a tab left open across an upgrade): the client stops reconnecting.
  // A refused session ("auth-failed") is the session controller's: it signs this browser out.
  useClientEvent(client, "signed-out", (s) => {
    if (s.code === "client-too-old") showToast(t("error.clientTooOld"), { sticky: true, kind: s.code });
    if (s.code === "server-too-old") showToast(t("error.serverTooOld"), { sticky: true, kind: s.code });
  });
  return null;
}
