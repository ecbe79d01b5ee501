// Signing in a further device of a person in the web app: the new browser waits with a code, and a
// device that is already signed in approves it in its prompt after checking the code matches.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { byTestId, PASSWORD } from "./people.ts";

/** Signs in with the password on a fresh browser; resolves on its waiting screen with the code shown. */
export async function signInWaiting(page: Page, username: string, password = PASSWORD): Promise<string> {
  await byTestId(page, "auth-mode-login").click();
  await byTestId(page, "auth-username").fill(username);
  await byTestId(page, "auth-password").fill(password);
  await byTestId(page, "auth-submit").click();
  const code = byTestId(page, "approval-code");
  await code.waitFor({ timeout: 20_000 });
  const digits = (await code.getAttribute("data-code")) ?? "";
  assert.match(digits, /^\d{12}$/, "a twelve-digit approval code");
  return digits;
}

/** `approver` gets the approval prompt, which must show `code`, and approves the sign-in. */
export async function approveSignIn(approver: Page, code: string): Promise<void> {
  const prompt = byTestId(approver, "approval-prompt");
  await prompt.waitFor({ timeout: 20_000 });
  assert.equal(
    await prompt.getByTestId("approval-prompt-code").getAttribute("data-code"),
    code,
    "the approving device shows the same code",
  );
  await prompt.getByTestId("approval-approve").click();
  await prompt.waitFor({ state: "detached" });
}

/**
 * A further device of `username`: signs in on `page`, is approved on `approver`, and is connected in
 * the app with its chat list.
 */
export async function signInApproved(page: Page, username: string, approver: Page): Promise<void> {
  const code = await signInWaiting(page, username);
  await approveSignIn(approver, code);
  await byTestId(page, "new-chat-button").waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}
