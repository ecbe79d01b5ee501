// The people of the web-app browser tests: signing up in the app, and the direct chat two of them
// start from a username search.
import type { Locator, Page } from "playwright-core";
import type { TestDevice } from "./harness.ts";
import type { WebSuite } from "./web-suite.ts";

export const PASSWORD = "correct horse battery";

export const byTestId = (page: Page, id: string): Locator => page.getByTestId(id);

/**
 * Registers `username` in the app's sign-in screen and waits until connected; with `waitForChatList`
 * it first waits for the chat list (the new-chat button) too.
 */
export async function signUp(
  page: Page,
  username: string,
  options: { waitForChatList?: boolean } = {},
): Promise<void> {
  await byTestId(page, "auth-mode-register").click();
  await byTestId(page, "auth-username").fill(username);
  await byTestId(page, "auth-password").fill(PASSWORD);
  await byTestId(page, "auth-password-confirm").fill(PASSWORD);
  await byTestId(page, "auth-submit").click();
  if (options.waitForChatList) await byTestId(page, "new-chat-button").waitFor();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}

/** Two English desktop devices from `suite`, signed up as "alice" and "bob" at the same time. */
export async function signUpAliceAndBob(
  suite: WebSuite,
  options: { waitForChatList?: boolean } = {},
): Promise<{ alice: TestDevice; bob: TestDevice }> {
  const alice = await suite.open({ locale: "en-US" });
  const bob = await suite.open({ locale: "en-US" });
  await Promise.all([signUp(alice.page, "alice", options), signUp(bob.page, "bob", options)]);
  return { alice, bob };
}

/** `from` searches for `toName` and starts a direct chat from the search result. */
export async function startChat(from: Page, toName: string): Promise<void> {
  await byTestId(from, "chat-search").fill(toName);
  await byTestId(from, "search-person").getByRole("button").click();
}

/** Types into the composer and sends with Enter, as a person would. */
export async function send(page: Page, text: string): Promise<void> {
  const composer = byTestId(page, "composer");
  await composer.fill(text);
  await composer.press("Enter");
}

/**
 * `from` starts a direct chat with `toName` and sends `text`; `to` opens the chat from its list
 * (where it shows as `fromName`) and waits for the text.
 */
export async function startChatAndSend(
  from: Page,
  toName: string,
  text: string,
  to: Page,
  fromName: string,
): Promise<void> {
  await startChat(from, toName);
  await send(from, text);
  await to.locator(`[data-testid="chat-item"][data-chat-name="${fromName}"]`).click();
  await byTestId(to, "message-list").getByText(text).waitFor();
}
