// Linking a new device in the web app: a signed-in browser shows a short code in Settings →
// Devices; a fresh browser types it instead of a password, joins the account and receives new
// messages; the old browser sees it linked in the device list and can sign it out again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertNoErrors, screenshot } from "./harness.ts";
import { byTestId, send, signUpAliceAndBob, startChat } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

describe("device linking in Chromium", () => {
  const suite = useWebSuite();

  it(
    "a new browser joins with the short code, gets new messages, and is signed out from the device list",
    { timeout: 58_000 },
    async () => {
      const { alice: laptop, bob } = await signUpAliceAndBob(suite);
      await startChat(bob.page, "alice");
      await send(bob.page, "hi alice");
      await laptop.page.locator('[data-testid="chat-item"][data-chat-name="bob"]').waitFor();

      // The laptop shows a code in Settings → Devices.
      await laptop.page.goto(`${suite.url}/#/settings`);
      await byTestId(laptop.page, "link-device").click();
      const codeEl = byTestId(laptop.page, "link-code");
      await codeEl.waitFor();
      const code = (await codeEl.innerText()).trim();
      assert.match(code, /^[A-Z0-9]{4,}(-[A-Z0-9]{4,})*$/, `a short code: ${code}`);
      await byTestId(laptop.page, "qr-code").waitFor();
      await screenshot(laptop.page, "privacy-link-code");

      // A fresh browser (Korean, phone-sized) links with the code, typed in lower case.
      const phone = await suite.open({ locale: "ko-KR", width: 375, height: 812 });
      await byTestId(phone.page, "auth-mode-link").click();
      await byTestId(phone.page, "link-code-input").fill(code.toLowerCase());
      await byTestId(phone.page, "link-submit").click();
      await phone.page.locator('[data-testid="connection"][data-state="connected"]').waitFor();

      // The laptop notices the new device and lists it.
      await byTestId(laptop.page, "link-done").waitFor();
      await laptop.page.keyboard.press("Escape");
      await laptop.page.locator('[data-testid="device"]').nth(1).waitFor();
      assert.equal(await laptop.page.locator('[data-testid="device"]').count(), 2);

      // Messages sent after linking reach the new device (its chats are joined by the account's devices).
      await byTestId(bob.page, "composer").fill("welcome, new device");
      await byTestId(bob.page, "composer").press("Enter");
      await phone.page.locator('[data-testid="chat-item"][data-chat-name="bob"]').click({ timeout: 30_000 });
      await byTestId(phone.page, "message-list")
        .getByText("welcome, new device")
        .waitFor({ timeout: 20_000 });

      // The laptop signs the phone out again.
      await laptop.page
        .locator('[data-testid="device"][data-current="false"]')
        .getByTestId("revoke-device")
        .click();
      await byTestId(laptop.page, "revoke-device-confirm").click();
      await laptop.page.locator('[data-testid="device"]').nth(1).waitFor({ state: "detached" });
      assert.equal(await laptop.page.locator('[data-testid="device"]').count(), 1);
      for (const d of suite.devices) assertNoErrors(d);
    },
  );
});
