import { type ReactNode, useSyncExternalStore } from "react";
import { ToastProvider } from "./components/toast-provider.tsx";
import { I18nProvider } from "./i18n/i18n-context.tsx";
import { ApprovalScreen } from "./screens/approval-screen.tsx";
import { AuthScreen } from "./screens/auth-screen.tsx";
import { LoadingScreen } from "./screens/loading-screen.tsx";
import { Messenger } from "./screens/messenger.tsx";
import { UnavailableScreen } from "./screens/unavailable-screen.tsx";
import { ClientContext } from "./session/client-context.ts";
import type { SessionController } from "./session/session-controller.ts";

/** Picks the screen for the session's state: loading, sign-in, waiting for approval, or the messenger. */
export function App({ session }: { session: SessionController }): ReactNode {
  const state = useSyncExternalStore(session.subscribe, session.getSnapshot);
  let screen: ReactNode;
  switch (state.status) {
    case "loading":
      screen = <LoadingScreen />;
      break;
    case "unavailable":
      screen = <UnavailableScreen session={session} />;
      break;
    case "signed-out":
      screen = <AuthScreen session={session} notice={state.notice} />;
      break;
    case "pending-approval":
      screen = <ApprovalScreen key={state.client.deviceId} session={session} state={state} />;
      break;
    case "signed-in":
      screen = (
        <ClientContext value={state}>
          <Messenger key={state.client.deviceId} session={session} />
        </ClientContext>
      );
      break;
  }
  return (
    <I18nProvider>
      <ToastProvider>{screen}</ToastProvider>
    </I18nProvider>
  );
}
