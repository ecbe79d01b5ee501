// Signing in with the password on a new browser: it waits with a twelve-digit code, every device of
// the account already signed in asks whether to approve it, showing the same code; once approved the
// new browser is part of the chats. A rejected sign-in goes back to the sign-in screen and says why,
// a cancelled one signs itself out, and the other prompts go away once one device answered. A device
// approved elsewhere is announced with "Sign it out"; a password change signs the other devices out;
// a person without their other devices starts over with a new identity key, after a confirmation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { approveSignIn, signInWaiting } from "./approval.ts";
import {
  assertNoErrors,
  forgetExpectedErrors,
  REFUSED_REQUEST,
  screenshot,
  type TestDevice,
} from "./harness.ts";
import { byTestId, PASSWORD, send, signUpAliceAndBob, startChatAndSend } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

const TIMEOUT_MS = 90_000;
const NEW_PASSWORD = "a much better passphrase";

/** Waits until `device` shows the sign-in screen saying it was signed out elsewhere. */
async function waitSignedOut(device: TestDevice): Promise<void> {
  const notice = byTestId(device.page, "auth-notice");
  await notice.waitFor({ timeout: 20_000 });
  assert.equal(await notice.getAttribute("data-notice"), "revoked");
  forgetExpectedErrors(device, REFUSED_REQUEST);
}

describe("approving a new sign-in in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let bob: TestDevice;
  let phone: TestDevice;

  it(
    "the new browser waits with a code, the first one approves it with the same code, and it gets new messages",
    { timeout: TIMEOUT_MS },
    async () => {
      ({ alice, bob } = await signUpAliceAndBob(suite, { waitForChatList: true }));
      await startChatAndSend(bob.page, "alice", "before the new phone", alice.page, "bob");

      // Alice signs in on a Korean phone in the dark: it waits and shows a code.
      phone = await suite.open({ locale: "ko-KR", width: 375, height: 812 });
      await phone.page.emulateMedia({ colorScheme: "dark" });
      const code = await signInWaiting(phone.page, "alice");
      await byTestId(phone.page, "approval-screen").getByText("승인을 기다리는 중").waitFor();
      const overflow = await phone.page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      assert.ok(overflow <= 0, `no horizontal overflow on the waiting screen (${overflow} px)`);
      await screenshot(phone.page, "mobile-ko-dark-waiting-for-approval");

      // Alice's laptop asks, with the same code (checked in approveSignIn), naming the phone.
      const prompt = byTestId(alice.page, "approval-prompt");
      await prompt.waitFor({ timeout: 20_000 });
      assert.match(await prompt.getByTestId("approval-prompt-device").innerText(), /Chrom/);
      // The prompt is a modal dialog: the focus is inside it.
      assert.ok(await prompt.evaluate((d) => d.contains(document.activeElement)), "focus in the prompt");
      await screenshot(alice.page, "desktop-en-approval-prompt");
      await approveSignIn(alice.page, code);
      await byTestId(alice.page, "toast").filter({ hasText: "is now signed in" }).waitFor();

      // The phone goes on into the app, and receives what Bob sends now.
      await byTestId(phone.page, "new-chat-button").waitFor({ timeout: 20_000 });
      await send(bob.page, "hello to your new phone");
      await phone.page.locator('[data-testid="chat-item"][data-chat-name="bob"]').click({ timeout: 30_000 });
      await byTestId(phone.page, "message-list")
        .getByText("hello to your new phone")
        .waitFor({ timeout: 20_000 });

      // The device list shows both, active.
      await alice.page.goto(`${suite.url}/#/settings`);
      await alice.page.locator('[data-testid="device"][data-state="active"]').nth(1).waitFor();
      for (const d of suite.devices) assertNoErrors(d);
    },
  );

  it(
    "a rejected sign-in is told so and is back at the sign-in screen; the other device lists it, then drops it",
    { timeout: TIMEOUT_MS },
    async () => {
      const stranger = await suite.open({ locale: "en-US" });
      const code = await signInWaiting(stranger.page, "alice");
      // Both of Alice's devices ask; the phone answers, and the laptop's prompt goes by itself.
      const laptopPrompt = byTestId(alice.page, "approval-prompt");
      await laptopPrompt.waitFor({ timeout: 20_000 });
      // The laptop puts its prompt off: the sign-in is listed in Settings → Devices with its code.
      await alice.page.keyboard.press("Escape");
      await laptopPrompt.waitFor({ state: "detached" });
      const pendingRow = alice.page.locator('[data-testid="device"][data-state="pending"]');
      await pendingRow.waitFor();
      assert.equal(await pendingRow.getByTestId("device-code").getAttribute("data-code"), code);
      await pendingRow.getByTestId("approve-device").waitFor();
      await screenshot(alice.page, "desktop-en-devices-pending");
      const phonePrompt = byTestId(phone.page, "approval-prompt");
      await phonePrompt.waitFor({ timeout: 20_000 });
      assert.equal(await phonePrompt.getByTestId("approval-prompt-code").getAttribute("data-code"), code);
      await screenshot(phone.page, "mobile-ko-dark-approval-prompt");
      await phonePrompt.getByTestId("approval-reject").click();
      await phonePrompt.waitFor({ state: "detached" });
      // The laptop's list drops it by itself.
      await pendingRow.waitFor({ state: "detached", timeout: 15_000 });

      const notice = byTestId(stranger.page, "auth-notice");
      await notice.waitFor({ timeout: 20_000 });
      assert.equal(await notice.getAttribute("data-notice"), "rejected");
      assert.match(await notice.innerText(), /was not approved/);
      await byTestId(stranger.page, "auth-submit").waitFor();
      // The rejected device is not among Alice's.
      await alice.page.locator('[data-testid="device"]').nth(1).waitFor();
      assert.equal(await alice.page.locator('[data-testid="device"]').count(), 2);
      // Chromium logs the refused reconnection of the rejected device as an error; nothing else may fail.
      forgetExpectedErrors(stranger, REFUSED_REQUEST);
      for (const d of suite.devices) assertNoErrors(d);
    },
  );

  it("a cancelled sign-in signs itself out, and the prompt goes", { timeout: TIMEOUT_MS }, async () => {
    const other = await suite.open({ locale: "en-US" });
    await signInWaiting(other.page, "alice");
    const prompt = byTestId(alice.page, "approval-prompt");
    await prompt.waitFor({ timeout: 20_000 });
    await byTestId(other.page, "approval-cancel").click();
    await byTestId(other.page, "auth-submit").waitFor();
    await prompt.waitFor({ state: "detached", timeout: 15_000 });
    for (const d of suite.devices) assertNoErrors(d);
  });

  it(
    'a device approved elsewhere is announced here, and "Sign it out" signs it out',
    { timeout: TIMEOUT_MS },
    async () => {
      const tablet = await suite.open({ locale: "en-US" });
      const code = await signInWaiting(tablet.page, "alice");
      // The phone approves; the laptop did not, so it tells Alice a device was added.
      await approveSignIn(phone.page, code);
      await byTestId(alice.page, "approval-prompt").waitFor({ state: "detached", timeout: 15_000 });
      const toast = alice.page.locator('[data-testid="toast"][data-kind="own-device"]');
      await toast.waitFor({ timeout: 20_000 });
      assert.match(
        await toast.innerText(),
        /A new device was added: .*Not yours\? Sign it out and change your password/,
      );
      assert.equal(await phone.page.locator('[data-testid="toast"][data-kind="own-device"]').count(), 0);
      await screenshot(alice.page, "desktop-en-own-device-toast");
      await toast.getByTestId("own-device-sign-out").click();
      await byTestId(alice.page, "own-device-confirm").waitFor();
      await byTestId(alice.page, "own-device-sign-out-confirm").click();
      await byTestId(alice.page, "toast").filter({ hasText: "Now change your password" }).waitFor();
      await waitSignedOut(tablet);
      for (const d of suite.devices) assertNoErrors(d);
    },
  );

  it("changing the password signs the other devices out", { timeout: TIMEOUT_MS }, async () => {
    const page = alice.page;
    await page.goto(`${suite.url}/#/settings`);
    await byTestId(page, "change-password").click();
    const form = byTestId(page, "change-password-form");
    assert.match(await form.innerText(), /Every other device of your account is signed out/);
    await byTestId(page, "password-current").fill("not the password");
    await byTestId(page, "password-new").fill(NEW_PASSWORD);
    await byTestId(page, "password-again").fill(NEW_PASSWORD);
    await byTestId(page, "password-submit").click();
    assert.equal(await byTestId(page, "password-error").innerText(), "The current password is wrong.");
    await byTestId(page, "password-current").fill(PASSWORD);
    await byTestId(page, "password-submit").click();
    await byTestId(page, "toast").filter({ hasText: "Password changed" }).waitFor();
    await waitSignedOut(phone);
    await page.locator('[data-testid="device"]').nth(1).waitFor({ state: "detached" });
    // The wrong current password was refused with a 401, on purpose.
    forgetExpectedErrors(alice, REFUSED_REQUEST);
    for (const d of suite.devices) assertNoErrors(d);
  });

  it(
    "without the other devices: a confirmation, a new identity key, the other devices signed out, contacts warned",
    { timeout: TIMEOUT_MS },
    async () => {
      const fresh = await suite.open({ locale: "en-US", width: 375, height: 812 });
      await signInWaiting(fresh.page, "alice", NEW_PASSWORD);
      await byTestId(fresh.page, "approval-no-devices").click();
      const dialog = byTestId(fresh.page, "approval-reset-dialog");
      await dialog.waitFor();
      const explained = await dialog.innerText();
      assert.match(explained, /contacts see that it changed/);
      assert.match(explained, /Every other device of your account is signed out/);
      assert.match(explained, /starts with an empty history/);
      await screenshot(fresh.page, "mobile-en-reset-identity-confirm");
      await byTestId(fresh.page, "approval-reset-confirm").click();
      await byTestId(fresh.page, "new-chat-button").waitFor({ timeout: 20_000 });
      await fresh.page.locator('[data-testid="toast"][data-kind="identity-reset"]').waitFor();
      // The laptop, which could have approved it, is signed out.
      await waitSignedOut(alice);
      // Bob's next message to Alice is held back: her safety number changed.
      await send(bob.page, "still you?");
      await byTestId(bob.page, "safety-banner").waitFor({ timeout: 25_000 });
      assert.equal(await byTestId(bob.page, "composer").isDisabled(), true);
      for (const d of suite.devices) assertNoErrors(d);
    },
  );
});
