import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { applyTheme } from "./lib/theme.ts";
import { loadThemePreference } from "./lib/preferences.ts";
import { SessionController } from "./session/session-controller.ts";
import "./styles.css";

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
