import { lazy, type ReactNode, Suspense, useEffect, useRef, useState } from "react";
import { ApprovalPrompt } from "../components/approval-prompt.tsx";
import { ChatList } from "../components/chat-list.tsx";
import { OwnDeviceNotice } from "../components/own-device-notice.tsx";
import { SecurityWarnings } from "../components/security-warnings.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { SidebarHeader } from "../components/sidebar-header.tsx";
import { useChats } from "../hooks/use-chats.ts";
import { useHashRoute } from "../hooks/use-hash-route.ts";
import { useCallView } from "../calls/use-call-view.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import type { SessionController } from "../session/session-controller.ts";
import { Conversation } from "./conversation.tsx";
import { EmptyPane } from "./empty-pane.tsx";
import { NewChatDialog } from "./new-chat-dialog.tsx";

// Rarely used screens load on demand so the first load stays small.
const GroupInfo = lazy(() => import("./group-info.tsx").then((m) => ({ default: m.GroupInfo })));
const SettingsScreen = lazy(() =>
  import("./settings-screen.tsx").then((m) => ({ default: m.SettingsScreen })),
);
// The call screens load with the first call (or ring) of the session.
const CallLayer = lazy(() => import("../calls/call-layer.tsx").then((m) => ({ default: m.CallLayer })));
const NewGroupDialog = lazy(() =>
  import("./new-group-dialog.tsx").then((m) => ({ default: m.NewGroupDialog })),
);

const DialerDialog = lazy(() =>
  import("../calls/dialer-dialog.tsx").then((m) => ({ default: m.DialerDialog })),
);

type DialogName = "new-chat" | "new-group" | "dialer" | null;

/**
 * The signed-in app: chat list on the left, the open chat (or settings, or group info) on the right.
 * Below 768 px only one pane shows at a time; the URL hash says which.
 */
export function Messenger({ session }: { session: SessionController }): ReactNode {
  const { t } = useI18n();
  const route = useHashRoute();
  const chats = useChats();
  const [dialog, setDialog] = useState<DialogName>(null);
  const call = useCallView();
  const { notice } = useSignedIn();
  const { showToast } = useToast();

  // Once per sign-in: this browser gave the account a new identity key, which contacts will notice.
  const told = useRef(false);
  useEffect(() => {
    if (notice !== "identity-reset" || told.current) return;
    told.current = true;
    showToast(t("auth.identityReset"), { sticky: true, kind: "identity-reset" });
  }, [notice, showToast, t]);

  const unread = chats?.reduce((n, c) => n + c.unread, 0) ?? 0;
  // While a call rings here the incoming-call prompt owns the title; an unread count that changes
  // meanwhile (say, a message being marked read) must not overwrite it. Re-applied when ringing stops.
  const ringing = call?.state === "ringing-in";
  useEffect(() => {
    if (ringing) return;
    const name = t("app.name");
    document.title = unread > 0 ? `(${unread}) ${name}` : name;
  }, [unread, t, ringing]);

  const selected = route.name === "chat" || route.name === "group-info" ? route.chatId : null;
  const loading = <div className="pane-loading" aria-busy="true" />;

  return (
    <div className="messenger" data-view={route.name === "list" ? "list" : "detail"}>
      {/* Under the call screen the messenger is inert: no focus, no clicks, hidden from screen readers. */}
      <aside className="sidebar" aria-label={t("chats.title")} inert={call !== null}>
        <SidebarHeader
          onNewChat={() => setDialog("new-chat")}
          onNewGroup={() => setDialog("new-group")}
          onCallPhone={() => setDialog("dialer")}
          settingsOpen={route.name === "settings"}
        />
        <ChatList
          selectedId={selected}
          onNewChat={() => setDialog("new-chat")}
          onNewGroup={() => setDialog("new-group")}
        />
      </aside>
      <main className="detail" inert={call !== null}>
        {route.name === "chat" && <Conversation key={route.chatId} chatId={route.chatId} />}
        {route.name === "group-info" && (
          <Suspense fallback={loading}>
            <GroupInfo key={route.chatId} chatId={route.chatId} />
          </Suspense>
        )}
        {route.name === "settings" && (
          <Suspense fallback={loading}>
            <SettingsScreen session={session} />
          </Suspense>
        )}
        {route.name === "list" && <EmptyPane />}
      </main>
      {dialog === "new-chat" && <NewChatDialog onClose={() => setDialog(null)} />}
      {dialog === "new-group" && (
        <Suspense fallback={null}>
          <NewGroupDialog onClose={() => setDialog(null)} />
        </Suspense>
      )}
      {dialog === "dialer" && (
        <Suspense fallback={null}>
          <DialerDialog onClose={() => setDialog(null)} />
        </Suspense>
      )}
      <ApprovalPrompt />
      <OwnDeviceNotice />
      <SecurityWarnings />
      {call && (
        <Suspense fallback={null}>
          <CallLayer />
        </Suspense>
      )}
    </div>
  );
}
