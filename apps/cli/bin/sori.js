#!/usr/bin/env node
// Runs the TypeScript CLI on the Node 24 the project pins (the `node` npm package), whatever `node`
// is first on PATH: older Node cannot run TypeScript natively.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");
const major = Number(process.versions.node.split(".")[0]);
// `sori server` caps V8's young generation as `npm start` does (idle memory per connection; see
// ARCHITECTURE.md): a V8 flag, so it needs a process started with it.
const serverFlags =
  process.argv[2] === "server" && !process.execArgv.some((a) => a.startsWith("--max-semi-space-size"))
    ? ["--max-semi-space-size=16"]
    : [];

if (major >= 24 && serverFlags.length === 0) {
  await import(pathToFileURL(main).href);
} else {
  let bin = process.execPath;
  if (major < 24) {
    try {
      bin = join(dirname(createRequire(import.meta.url).resolve("node/package.json")), "bin", "node");
    } catch {
      process.stderr.write("sori: needs Node.js 24; run `npm install` in the repository first\n");
      process.exit(1);
    }
  }
  const child = spawn(bin, [...serverFlags, main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
