#!/usr/bin/env node
// Runs the TypeScript CLI on the Node 24 the project pins (the `node` npm package), whatever `node`
// is first on PATH: older Node cannot run TypeScript natively.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");
const major = Number(process.versions.node.split(".")[0]);

if (major >= 24) {
  await import(pathToFileURL(main).href);
} else {
  let bin;
  try {
    bin = join(dirname(createRequire(import.meta.url).resolve("node/package.json")), "bin", "node");
  } catch {
    process.stderr.write("sori: needs Node.js 24; run `npm install` in the repository first\n");
    process.exit(1);
  }
  const child = spawn(bin, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
