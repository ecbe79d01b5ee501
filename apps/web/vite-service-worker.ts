// Builds the service worker (src/sw/service-worker.ts) into dist/sw.js after the app is built: one
// classic script (a module worker is not yet everywhere, Safari and Firefox included), with the list
// of the build's files and a hash of them baked in. A changed build therefore changes sw.js, which is
// how the browser notices an update. Hand-written instead of vite-plugin-pwa: that brings Workbox
// (dozens of packages) for what is here a cache of one list of files and two event handlers.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { build, type Plugin } from "vite";

const WORKER_FILE = "sw.js";

/** Every file of the built app, as the URL path the worker caches, sorted; never the worker itself. */
function shellFiles(outDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!/\.(gz|map)$/.test(entry.name) && entry.name !== WORKER_FILE)
        files.push("/" + relative(outDir, path).split(sep).join("/"));
    }
  };
  walk(outDir);
  return files.sort();
}

export function serviceWorker(options: { entry: string; outDir: string }): Plugin {
  return {
    name: "sori-service-worker",
    apply: "build",
    async closeBundle() {
      const files = shellFiles(options.outDir);
      const hash = createHash("sha256");
      for (const file of files)
        hash
          .update(file)
          .update("\0")
          .update(readFileSync(join(options.outDir, file)));
      await build({
        configFile: false,
        logLevel: "warn",
        define: {
          __SORI_SHELL_VERSION__: JSON.stringify(hash.digest("hex").slice(0, 16)),
          // A JSON string the worker parses: Vite defines a value, and an array literal would not survive as one.
          __SORI_SHELL_FILES__: JSON.stringify(JSON.stringify(files)),
        },
        build: {
          outDir: options.outDir,
          emptyOutDir: false,
          target: "es2022",
          minify: true,
          copyPublicDir: false,
          lib: {
            entry: options.entry,
            formats: ["iife"],
            name: "soriServiceWorker",
            fileName: () => WORKER_FILE,
          },
        },
      });
    },
  };
}
