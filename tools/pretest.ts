// Runs before `npm test` (root "pretest" script): makes sure the browser and call tests can run. It
// installs Chromium, coturn, baresip, sipp, Prosody, ejabberd and slixmpp when it can (root with apt-get), else names the command to run, then (re)builds the web app
// when apps/web/dist is missing or older than its sources. Every step is bounded in time.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = process.env.SORI_CHROMIUM ?? "/usr/bin/chromium";
const WEB = join(ROOT, "apps", "web");
const BUILT_INDEX = join(WEB, "dist", "index.html");
/** coturn's server, for the relay-only call test. */
const TURNSERVER = process.env.SORI_TURNSERVER ?? "/usr/bin/turnserver";
/** baresip, the phone of the SIP gateway's tests, and sipp (Debian's sip-tester), its load. */
const BARESIP = process.env.SORI_BARESIP ?? "/usr/bin/baresip";
const SIPP = process.env.SORI_SIPP ?? "/usr/bin/sipp";
/** Prosody and ejabberd, the XMPP servers of the XMPP gateway's tests, and slixmpp, their XMPP user's library. */
const PROSODY = process.env.SORI_PROSODY ?? "/usr/bin/prosody";
const EJABBERDCTL = process.env.SORI_EJABBERDCTL ?? "/usr/sbin/ejabberdctl";
const SLIXMPP = "/usr/lib/python3/dist-packages/slixmpp/__init__.py";
const APT_PACKAGES = [
  "chromium",
  "fonts-noto-cjk",
  "fonts-noto-color-emoji",
  "coturn",
  "baresip",
  "sip-tester",
  "prosody",
  "ejabberd",
  "python3-slixmpp",
];
const INSTALL_COMMAND = `apt-get update && apt-get install -y ${APT_PACKAGES.join(" ")}`;
const APT_TIMEOUT_MS = 15 * 60_000;
const BUILD_TIMEOUT_MS = 5 * 60_000;
/** More files than this under the sources means something odd (a stray node_modules): stop walking. */
const MAX_SOURCE_FILES = 50_000;

/** The web bundle includes the SDK, crypto and protocol packages, so their sources count too. */
const SOURCES = [
  join(WEB, "src"),
  join(WEB, "public"),
  join(WEB, "index.html"),
  join(WEB, "vite.config.ts"),
  join(WEB, "package.json"),
  join(ROOT, "packages", "sdk", "src"),
  join(ROOT, "packages", "crypto", "src"),
  join(ROOT, "packages", "protocol", "src"),
];

class PretestError extends Error {
  readonly code: "no-chromium" | "no-openssl" | "install-failed" | "build-failed";
  constructor(code: PretestError["code"], message: string) {
    super(message);
    this.name = "PretestError";
    this.code = code;
  }
}

const say = (line: string): void => {
  process.stdout.write(`pretest: ${line}\n`);
};

function run(command: string, args: string[], cwd: string, timeoutMs: number): boolean {
  say(`$ ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, {
    cwd,
    stdio: "inherit",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.error) {
    say(`${command} failed: ${result.error.message}`);
    return false;
  }
  if (result.status !== 0) {
    say(`${command} exited with ${result.status ?? result.signal}`);
    return false;
  }
  return true;
}

/** Fonts the screenshots need: Korean (CJK) and colour emoji. */
const FONT_FILES = [
  "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
  "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
];

/** What the browser, call, SIP and XMPP tests run, and where each must be once installed. */
const REQUIRED: { what: string; path: string }[] = [
  { what: "Chromium", path: CHROMIUM },
  { what: "coturn", path: TURNSERVER },
  { what: "baresip", path: BARESIP },
  { what: "sipp", path: SIPP },
  { what: "Prosody", path: PROSODY },
  { what: "ejabberd", path: EJABBERDCTL },
  { what: "slixmpp (Debian's python3)", path: SLIXMPP },
];

function ensureChromium(): void {
  const fontsPresent = FONT_FILES.every((f) => existsSync(f)) || process.env.SORI_CHROMIUM !== undefined;
  const missing = (): string[] => REQUIRED.filter((r) => !existsSync(r.path)).map((r) => r.what);
  const where = REQUIRED.map((r) => `${r.what} at ${r.path}`).join(", ");
  if (fontsPresent && missing().length === 0) {
    say(`found ${where}`);
    return;
  }
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync("/usr/bin/apt-get");
  if (!isRoot || !hasApt) {
    throw new PretestError(
      "no-chromium",
      `the browser, call, SIP and XMPP tests need ${where}. Install them with:\n\n    sudo sh -c '${INSTALL_COMMAND}'\n\n` +
        "(or point SORI_CHROMIUM at a Chromium binary)",
    );
  }
  say(
    `missing: ${[...missing(), ...(fontsPresent ? [] : ["fonts"])].join(", ")}; installing (up to ${APT_TIMEOUT_MS / 60_000} min per step)`,
  );
  const ok =
    run("apt-get", ["update"], ROOT, APT_TIMEOUT_MS) &&
    run("apt-get", ["install", "-y", ...APT_PACKAGES], ROOT, APT_TIMEOUT_MS);
  if (!ok || missing().length > 0)
    throw new PretestError(
      "install-failed",
      `installing ${missing().join(", ") || "the test packages"} failed; run it yourself: ${INSTALL_COMMAND}`,
    );
  say("installed the test packages");
}

/** The TLS test makes a throwaway self-signed certificate with the openssl command. */
function ensureOpenssl(): void {
  const found = spawnSync("openssl", ["version"], { timeout: 10_000 }).status === 0;
  if (found) {
    say("openssl found");
    return;
  }
  const command = "apt-get update && apt-get install -y openssl";
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get"))
    throw new PretestError(
      "no-openssl",
      `the TLS test needs openssl. Install it with:\n\n    sudo sh -c '${command}'\n`,
    );
  say("openssl is missing; installing it");
  const ok =
    run("apt-get", ["update"], ROOT, APT_TIMEOUT_MS) &&
    run("apt-get", ["install", "-y", "openssl"], ROOT, APT_TIMEOUT_MS);
  if (!ok) throw new PretestError("install-failed", `installing openssl failed; run it yourself: ${command}`);
  say("openssl installed");
}

/** The newest modification time under `path` (a file or a directory tree), and how many files were seen. */
function newestMtime(path: string, budget: { files: number }): number {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) {
    budget.files++;
    return info.mtimeMs;
  }
  let newest = info.mtimeMs; // a deleted file changes its directory's mtime
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (budget.files > MAX_SOURCE_FILES) break;
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name), budget));
  }
  return newest;
}

function ensureWebBuild(): void {
  const budget = { files: 0 };
  const newestSource = Math.max(...SOURCES.map((p) => newestMtime(p, budget)));
  if (existsSync(BUILT_INDEX) && statSync(BUILT_INDEX).mtimeMs >= newestSource) {
    say("web app build is up to date");
    return;
  }
  say(existsSync(BUILT_INDEX) ? "web app sources changed; rebuilding" : "web app not built; building");
  // Vite's own script on this Node (24), not whatever `node` the PATH finds first.
  const vitePackage = createRequire(join(WEB, "package.json")).resolve("vite/package.json");
  const viteBin = join(dirname(vitePackage), "bin", "vite.js");
  if (!run(process.execPath, [viteBin, "build"], WEB, BUILD_TIMEOUT_MS) || !existsSync(BUILT_INDEX))
    throw new PretestError("build-failed", "building the web app failed (see the output above)");
  say("web app built");
}

try {
  ensureChromium();
  ensureOpenssl();
  ensureWebBuild();
} catch (error) {
  if (error instanceof PretestError) {
    process.stderr.write(`pretest: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
