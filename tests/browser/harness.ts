// Browser tests: a real Sori server serving the built web app, and "devices" that are each a headless
// Chromium with its own profile (so IndexedDB, and with it the account, is per device).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { startTestServer } from "../helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The built web app that startWebServer serves. */
export const WEB_DIST = join(ROOT, "apps", "web", "dist");
const CHROMIUM = process.env.SORI_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOT_DIR = join(ROOT, "test-output", "screenshots");
const DEFAULT_TIMEOUT_MS = 15_000;
const LAUNCH_TIMEOUT_MS = 30_000;

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
];

/** A setup problem of the test machine, with the fix in the message. */
export class HarnessError extends Error {
  readonly code: "not-built" | "no-chromium" | "bad-name";
  constructor(code: HarnessError["code"], message: string) {
    super(message);
    this.name = "HarnessError";
    this.code = code;
  }
}

export type TestDevice = { page: Page; errors: string[]; close(): Promise<void> };

/** A real Sori server on 127.0.0.1 with a fresh data dir, serving apps/web/dist. */
export async function startWebServer(
  extraArgs: string[] = [],
): Promise<{ url: string; stop(): Promise<void> }> {
  if (!existsSync(join(WEB_DIST, "index.html")))
    throw new HarnessError(
      "not-built",
      `the web app is not built (${WEB_DIST}/index.html is missing): run \`node tools/pretest.ts\` ` +
        "or `npm run build -w @sori/web`",
    );
  const server = await startTestServer(["--web-dir", WEB_DIST, ...extraArgs]);
  return { url: server.url, stop: () => server.stop() };
}

/**
 * One device: a headless Chromium with a fresh profile, its page opened at `url`. Page errors and
 * console errors are collected in `errors` (see assertNoErrors). close() also deletes the profile.
 */
export async function openDevice(
  url: string,
  options: { locale?: string; width?: number; height?: number; extraArgs?: string[] } = {},
): Promise<TestDevice> {
  if (!existsSync(CHROMIUM))
    throw new HarnessError(
      "no-chromium",
      `Chromium is not installed at ${CHROMIUM}: run \`node tools/pretest.ts\` ` +
        "(or apt-get install -y chromium fonts-noto-cjk)",
    );
  const profile = mkdtempSync(join(tmpdir(), "sori-chromium-"));
  const errors: string[] = [];
  let context: BrowserContext | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      await context?.close();
    } finally {
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
    }
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      timeout: LAUNCH_TIMEOUT_MS,
      viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
      ...(options.locale ? { locale: options.locale } : {}),
    });
    context.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(DEFAULT_TIMEOUT_MS);
    const watched = new WeakSet<Page>();
    const watch = (p: Page): void => {
      if (watched.has(p)) return;
      watched.add(p);
      p.on("pageerror", (error) => errors.push(`page error: ${error.stack ?? error.message}`));
      p.on("console", (message) => {
        if (message.type() !== "error") return;
        const where = message.location();
        const at = where.url ? ` (${where.url}:${where.lineNumber}:${where.columnNumber})` : "";
        errors.push(`console error: ${message.text()}${at}`);
      });
    };
    // Popups and pages the app opens are watched too.
    context.on("page", watch);
    for (const p of context.pages()) watch(p);
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    await page.goto(url);
    return { page, errors, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** Saves a screenshot of the viewport as test-output/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new HarnessError("bad-name", `screenshot name "${name}" must be letters, digits, ".", "_", "-"`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Fails, listing every page error and console error the device has collected. */
export function assertNoErrors(device: TestDevice): void {
  if (device.errors.length === 0) return;
  assert.fail(
    `${device.errors.length} browser error(s) on ${device.page.url()}:\n` +
      device.errors.map((e, i) => `  ${i + 1}. ${e}`).join("\n"),
  );
}

/** Drops errors a test caused on purpose (and checked) from a device's list, so assertNoErrors still guards the rest. */
export function forgetExpectedErrors(device: TestDevice, expected: RegExp): void {
  const kept = device.errors.filter((e) => !expected.test(e));
  device.errors.splice(0, device.errors.length, ...kept);
}

/** What Chromium logs for a request the server refused: a wrong password, a device signed out on purpose. */
export const REFUSED_REQUEST = /status of 40[13]/;
