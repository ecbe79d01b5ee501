// Safety numbers in the web app: both people see the same 60 digits (and a QR code) for their
// chat; one marks it verified and the chat header shows a shield; when the other signs in on a new
// device, a warning appears in the chat, the verified mark goes, and the number changes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import { assertNoErrors, screenshot } from "./harness.ts";
import { byTestId, PASSWORD, signUpAliceAndBob, startChatAndSend } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

/** Opens the safety number from the chat header and returns its digits. */
async function safetyDigits(page: Page): Promise<string> {
  await byTestId(page, "safety-button").click();
  const digits = byTestId(page, "safety-digits");
  await digits.waitFor();
  await byTestId(page, "qr-code").waitFor();
  return (await digits.getAttribute("data-digits")) ?? "";
}

describe("safety numbers in Chromium", () => {
  const suite = useWebSuite();

  it(
    "equal on both sides, verified mark, and a warning after a new device",
    { timeout: 58_000 },
    async () => {
      const { alice, bob } = await signUpAliceAndBob(suite);
      const a = alice.page;
      const b = bob.page;
      await startChatAndSend(a, "bob", "let's check our safety number", b, "alice");

      const [fromAlice, fromBob] = await Promise.all([safetyDigits(a), safetyDigits(b)]);
      assert.match(fromAlice, /^\d{60}$/);
      assert.equal(fromAlice, fromBob, "both sides show the same safety number");
      assert.equal(
        (await byTestId(a, "safety-digits").innerText()).replace(/\s+/g, " ").trim().split(" ").length,
        12,
      );
      await screenshot(a, "privacy-safety-number");

      // Alice compared the digits with Bob: she marks them verified; the header shows it.
      await byTestId(a, "safety-verify").click();
      await a.locator('[data-testid="safety-state"][data-verified="true"]').waitFor();
      await a.keyboard.press("Escape");
      await b.keyboard.press("Escape");
      await byTestId(a, "verified-mark").waitFor();

      // Bob signs in on a new device: Alice's chat warns, and the mark is gone.
      const bobsPhone = await suite.open({ locale: "en-US" });
      await byTestId(bobsPhone.page, "auth-mode-login").click();
      await byTestId(bobsPhone.page, "auth-username").fill("bob");
      await byTestId(bobsPhone.page, "auth-password").fill(PASSWORD);
      await byTestId(bobsPhone.page, "auth-submit").click();
      await bobsPhone.page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
      const warning = a.locator('[data-testid="system-line"][data-event="devices-changed"]');
      await warning.waitFor({ timeout: 25_000 });
      assert.match(await warning.innerText(), /bob's devices changed/);
      await byTestId(a, "verified-mark").waitFor({ state: "detached" });
      await screenshot(a, "privacy-safety-warning");

      // The warning opens the new number, which differs from the old one.
      await warning.getByTestId("system-safety").click();
      const after = byTestId(a, "safety-digits");
      await after.waitFor();
      assert.notEqual(await after.getAttribute("data-digits"), fromAlice);
      await a.locator('[data-testid="safety-state"][data-verified="false"]').waitFor();
      for (const d of suite.devices) assertNoErrors(d);
    },
  );
});
