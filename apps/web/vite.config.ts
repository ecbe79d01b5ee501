import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app with live reload and forwards the API (HTTP and the WebSocket) to a
// running Sori server, so the app can keep using its own origin as the server URL.
const target = process.env.SORI_DEV_SERVER ?? "http://127.0.0.1:8080";

// Vite reads its configuration from the default export: the one place STYLE.md's named-export rule yields.
// eslint-disable-next-line no-restricted-syntax
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    target: "es2022",
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Named, stable vendor chunks: React and the MLS/crypto libraries change rarely, so browsers keep
        // them cached across app updates. Everything the app needs at start is in these plus the entry.
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: "mls", test: /node_modules[\\/](ts-mls|@noble|@hpke|zod)[\\/]/ },
            { name: "sdk", test: /packages[\\/](sdk|crypto|protocol)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target, ws: true, changeOrigin: true },
      "/healthz": { target, changeOrigin: true },
    },
  },
});
