// Linking a new device in the web app: a signed-in browser shows a four-group code in Settings →
// Devices and stays on that screen; a fresh browser types it instead of a password, waits until the
// showing browser approved it by itself (no code to compare), joins the account and receives new
// messages; the showing browser says "Linked: NAME", lists it, and can sign it out again. A third
// browser links with the pasted QR text.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertNoErrors, forgetExpectedErrors, REFUSED_REQUEST, screenshot } from "./harness.ts";
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
      assert.match(code, /^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/, `four groups of five: ${code}`);
      await byTestId(laptop.page, "link-keep-open").waitFor();
      await byTestId(laptop.page, "qr-code").waitFor();
      await screenshot(laptop.page, "web-link-code");

      // A fresh browser (Korean, phone-sized) links with the code, typed in lower case.
      const phone = await suite.open({ locale: "ko-KR", width: 375, height: 812 });
      await byTestId(phone.page, "auth-mode-link").click();
      await byTestId(phone.page, "link-code-input").fill(code.toLowerCase());
      await byTestId(phone.page, "link-submit").click();
      // It waits for the laptop (which stays on the link screen) to approve it: it may be quick.
      await phone.page
        .locator('[data-testid="approval-screen"][data-via="link"], [data-testid="new-chat-button"]')
        .first()
        .waitFor({ timeout: 20_000 });
      await byTestId(phone.page, "new-chat-button").waitFor({ timeout: 30_000 });
      await phone.page.locator('[data-testid="connection"][data-state="connected"]').waitFor();

      // The laptop approved it by itself, without a prompt, and names it.
      const done = byTestId(laptop.page, "link-done");
      await done.waitFor({ timeout: 20_000 });
      assert.match(await done.innerText(), /^Linked: .*Chrom/);
      assert.equal(
        await byTestId(laptop.page, "approval-prompt").count(),
        0,
        "no prompt for a linked device",
      );
      await screenshot(laptop.page, "web-link-done");
      await laptop.page.keyboard.press("Escape");
      await laptop.page.locator('[data-testid="device"]').nth(1).waitFor();
      assert.equal(await laptop.page.locator('[data-testid="device"][data-state="active"]').count(), 2);
      // The laptop did not warn about a device it linked itself.
      assert.equal(await laptop.page.locator('[data-testid="toast"][data-kind="own-device"]').count(), 0);

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

      // A tablet links with the QR code's text (as a scanner would hand it over), from a new code.
      await byTestId(laptop.page, "link-device").click();
      await byTestId(laptop.page, "link-code").waitFor();
      const qr = (await laptop.page.locator(".link-qr-text code").textContent())?.trim() ?? "";
      assert.match(qr, /^sori-link:[A-Z0-9-]{23}:http/);
      const tablet = await suite.open({ locale: "en-US" });
      await byTestId(tablet.page, "auth-mode-link").click();
      await byTestId(tablet.page, "link-code-input").fill(qr);
      await byTestId(tablet.page, "link-submit").click();
      await byTestId(tablet.page, "new-chat-button").waitFor({ timeout: 30_000 });
      await byTestId(laptop.page, "link-done").waitFor({ timeout: 20_000 });
      // Chromium logs the signed-out phone's refused reconnection; that one is expected.
      forgetExpectedErrors(phone, REFUSED_REQUEST);
      for (const d of suite.devices) assertNoErrors(d);
    },
  );
});
