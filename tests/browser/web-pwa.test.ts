// The installable app: manifest and icons pass Chromium's installability check, the service worker
// keeps the app shell so the app opens with its server gone and says "offline", and a new build is
// offered with a prompt instead of taking over by itself.
import assert from "node:assert/strict";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import { startTestServer } from "../helpers.ts";
import { assertNoErrors, openDevice, startWebServer, type TestDevice, WEB_DIST } from "./harness.ts";
import { byTestId, signUp } from "./people.ts";

/** Waits until the service worker controls the page (it claims the page it was installed from). */
async function controlled(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === "activated");
}

describe("web app: installable and offline", () => {
  it("is installable, and opens from its cache with the server stopped, saying offline", async (t) => {
    const server = await startWebServer();
    let stopped = false;
    t.after(async () => {
      if (!stopped) await server.stop();
    });
    const device: TestDevice = await openDevice(server.url, { locale: "en-US", width: 390, height: 844 });
    t.after(() => device.close());
    const { page } = device;
    await signUp(page, "ana", { waitForChatList: true });
    await controlled(page);

    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as {
      installabilityErrors: { errorId: string }[];
    };
    assert.deepEqual(installabilityErrors, [], "Chromium finds nothing against installing the app");
    const manifest = (await page.evaluate(() => fetch("/manifest.webmanifest").then((r) => r.json()))) as {
      display: string;
      icons: { purpose: string }[];
    };
    assert.equal(manifest.display, "standalone");
    assert.ok(
      manifest.icons.some((i) => i.purpose === "maskable"),
      "a maskable icon is listed",
    );
    assert.equal(await byTestId(page, "offline").count(), 0, "online, no offline strip");
    assertNoErrors(device);

    await server.stop();
    stopped = true;
    await page.reload();
    await byTestId(page, "offline").waitFor();
    assert.match((await byTestId(page, "offline").textContent()) ?? "", /Offline/);
    // The last state: signed in, the chat list, from this device's storage.
    await byTestId(page, "new-chat-button").waitFor();
  });

  it("offers a new build with a prompt and switches only when asked", async (t) => {
    const webDir = mkdtempSync(join(tmpdir(), "sori-pwa-web-"));
    t.after(() => rmSync(webDir, { recursive: true, force: true }));
    cpSync(WEB_DIST, webDir, { recursive: true });
    const server = await startTestServer(["--web-dir", webDir]);
    t.after(() => server.stop());
    const device = await openDevice(server.url, { locale: "ko-KR" });
    t.after(() => device.close());
    const { page } = device;
    await controlled(page);
    const first = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);

    // A new build: its worker differs (the server sends sw.js with no-cache, so the check refetches).
    appendFileSync(join(webDir, "sw.js"), "\n// build 2\n");
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const prompt = byTestId(page, "update-available");
    await prompt.waitFor();
    assert.match((await prompt.textContent()) ?? "", /새 버전/);
    // It waits for the person: the old worker still controls the page, which was not reloaded.
    const waiting = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return { waiting: r?.waiting?.state, active: r?.active?.state };
    });
    assert.deepEqual(waiting, { waiting: "installed", active: "activated" });
    assert.equal(await page.evaluate(() => performance.getEntriesByType("navigation").length), 1);

    const reloaded = page.waitForEvent("framenavigated");
    await prompt.getByRole("button").click();
    await reloaded;
    await controlled(page);
    await page.waitForFunction(async () => !(await navigator.serviceWorker.getRegistration())?.waiting);
    assert.equal(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL), first);
    assert.equal(await byTestId(page, "update-available").count(), 0, "no prompt after the update");
    assertNoErrors(device);
  });

  it("turns a pushed wake-up into a notification without content, and none while the app is in front", async (t) => {
    const server = await startWebServer();
    t.after(() => server.stop());
    const device = await openDevice(server.url, { locale: "ko-KR" });
    t.after(() => device.close());
    const { page } = device;
    await controlled(page);
    const context = page.context();
    await context.grantPermissions(["notifications"], { origin: server.url });
    const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
    const cdp = await context.newCDPSession(page);
    const registered = new Promise<string>((resolve) =>
      cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        (e: { registrations: { registrationId: string }[] }) => {
          const id = e.registrations[0]?.registrationId;
          if (id) resolve(id);
        },
      ),
    );
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registered;
    const push = (data: string): Promise<unknown> =>
      cdp.send("ServiceWorker.deliverPushMessage", {
        origin: new URL(server.url).origin,
        registrationId,
        data,
      });
    const shown = (): Promise<{ title: string; body: string; tag: string }[]> =>
      worker.evaluate(async () =>
        (
          await (
            self as unknown as { registration: ServiceWorkerRegistration }
          ).registration.getNotifications()
        ).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
        })),
      );

    // The person is looking at the app: nothing is shown.
    assert.equal(
      await page.evaluate(() => document.visibilityState === "visible" && document.hasFocus()),
      true,
    );
    await push('{"kind":"message"}');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await shown(), []);

    // The app closed (no window of it left): a wake-up shows its kind, in the saved language, once.
    await page.goto("about:blank");
    await push('{"kind":"message"}      ');
    await push('{"kind":"message"}');
    await push('{"kind":"text","body":"hi"}');
    const deadline = Date.now() + 10_000;
    while ((await shown()).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await shown(), [
      { title: "새 메시지", body: "Sori를 열어 확인하세요.", tag: "message" },
    ]);
    await push('{"kind":"call"}');
    const callDeadline = Date.now() + 10_000;
    while ((await shown()).length < 2 && Date.now() < callDeadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await shown()).map((n) => n.title).sort(), ["새 메시지", "전화가 왔어요"].sort());
  });
});
