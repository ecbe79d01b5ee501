// The browser harness end to end: server, Chromium device, page title, CSP, no errors. Uses the real web
// build when there is one, else a one-page stand-in (the build is made by tools/pretest.ts).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestServer } from "../helpers.ts";
import {
  assertNoErrors,
  openDevice,
  screenshot,
  startWebServer,
  type TestDevice,
  WEB_DIST,
} from "./harness.ts";

const STAND_IN_INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sori (stand-in)</title><link rel="icon" href="data:,">
<script type="module" src="/assets/smoke-abc123.js"></script></head>
<body><div id="root"></div></body></html>`;
const STAND_IN_JS = `document.getElementById("root").textContent = "Sori stand-in page";`;

describe("browser harness smoke test", () => {
  let url: string;
  let stop: () => Promise<void>;
  let standIn: string | undefined;
  const devices: TestDevice[] = [];

  before(async () => {
    if (existsSync(join(WEB_DIST, "index.html"))) {
      ({ url, stop } = await startWebServer());
      return;
    }
    standIn = mkdtempSync(join(tmpdir(), "sori-smoke-web-"));
    mkdirSync(join(standIn, "assets"));
    writeFileSync(join(standIn, "index.html"), STAND_IN_INDEX);
    writeFileSync(join(standIn, "assets", "smoke-abc123.js"), STAND_IN_JS);
    const server = await startTestServer(["--web-dir", standIn]);
    url = server.url;
    stop = () => server.stop();
  });

  after(async () => {
    for (const d of devices) await d.close();
    await stop?.();
    if (standIn) rmSync(standIn, { recursive: true, force: true });
  });

  it("opens the app in Chromium with a CSP and no errors", async () => {
    const device = await openDevice(url, { locale: "ko-KR", width: 390, height: 844 });
    devices.push(device);
    const { page } = device;
    assert.match(await page.title(), /Sori/);
    const response = await page.reload({ waitUntil: "load" });
    assert.ok(response, "the reload got a response");
    assert.equal(response.status(), 200);
    const csp = response.headers()["content-security-policy"] ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'/);
    assert.equal(await page.evaluate(() => navigator.language), "ko-KR");
    assert.deepEqual(page.viewportSize(), { width: 390, height: 844 });
    // Secure context (127.0.0.1 counts), so WebCrypto and IndexedDB are available to the app.
    assert.equal(await page.evaluate(() => window.isSecureContext && !!crypto.subtle), true);
    const shot = await screenshot(page, "smoke-start");
    assert.ok(existsSync(shot));
    assertNoErrors(device);
  });

  it("the browser enforces the CSP: injected inline script does not run and is reported", async () => {
    const device = await openDevice(url);
    devices.push(device);
    const ran = await device.page.evaluate(async () => {
      const s = document.createElement("script");
      s.textContent = "window.__soriInjected = true;";
      document.head.append(s);
      await new Promise((r) => setTimeout(r, 100));
      return (window as unknown as { __soriInjected?: boolean }).__soriInjected === true;
    });
    assert.equal(ran, false);
    // The refusal is a console error, which assertNoErrors must report.
    assert.ok(
      device.errors.some((e) => /Content Security Policy/i.test(e)),
      device.errors.join("\n"),
    );
    assert.throws(() => assertNoErrors(device), /browser error/);
  });

  it("collects uncaught page errors", async () => {
    const device = await openDevice(url);
    devices.push(device);
    await device.page.evaluate(() => {
      setTimeout(() => {
        throw new Error("deliberate smoke-test error");
      }, 0);
    });
    const deadline = Date.now() + 5_000;
    while (device.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(device.errors.join("\n"), /deliberate smoke-test error/);
    await device.close();
    await device.close();
  });
});
