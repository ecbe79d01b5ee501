// The global styles come first: every component's own CSS (imported beside it) is bundled after them,
// so at equal specificity a component's rules win over the shared controls and layout.
import "./styles/tokens.css";
import "./styles/base.css";
import "./styles/controls.css";
import "./styles/layout.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { applyTheme } from "./lib/theme.ts";
import { loadThemePreference } from "./lib/preferences.ts";
import { SessionController } from "./session/session-controller.ts";

applyTheme(loadThemePreference());

// The page is served by the Sori server it talks to (or by `vite dev`, which forwards /api to it).
const session = new SessionController(window.location.origin);
void session.start();

const root = document.getElementById("root");
if (root)
  createRoot(root).render(
    <StrictMode>
      <App session={session} />
    </StrictMode>,
  );
