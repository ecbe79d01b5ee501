// Disappearing messages in the web app: one person sets the chat's timer to its shortest value
// (30 s) from the header; both pages announce it and show it in the header; a message sent then
// vanishes from both pages once it has been read and the timer ran out, while an older one stays.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import { assertNoErrors, openDevice, screenshot, startWebServer, type TestDevice } from "./harness.ts";

const PASSWORD = "correct horse battery";
const TIMER_S = 30;

const byTestId = (page: Page, id: string): Locator => page.getByTestId(id);
const messageText = (page: Page, text: string): Locator =>
  byTestId(page, "message-list").getByTestId("message-text").filter({ hasText: text });

async function signUp(page: Page, username: string): Promise<void> {
  await byTestId(page, "auth-mode-register").click();
  await byTestId(page, "auth-username").fill(username);
  await byTestId(page, "auth-password").fill(PASSWORD);
  await byTestId(page, "auth-password-confirm").fill(PASSWORD);
  await byTestId(page, "auth-submit").click();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  await byTestId(page, "composer").fill(text);
  await byTestId(page, "composer").press("Enter");
}

describe("disappearing messages in Chromium", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let alice: TestDevice;
  let bob: TestDevice;

  before(async () => {
    ({ url, stop } = await startWebServer());
    alice = await openDevice(url, { locale: "en-US" });
    bob = await openDevice(url, { locale: "en-US" });
    await Promise.all([signUp(alice.page, "alice"), signUp(bob.page, "bob")]);
  });

  after(async () => {
    await alice?.close().catch(() => undefined);
    await bob?.close().catch(() => undefined);
    await stop?.();
  });

  it(
    "a timer set by one member is announced, and a read message vanishes on both pages",
    { timeout: 58_000 },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await byTestId(a, "chat-search").fill("bob");
      await byTestId(a, "search-person").getByRole("button").click();
      await send(a, "before the timer");
      await b.locator('[data-testid="chat-item"][data-chat-name="alice"]').click();
      await messageText(b, "before the timer").waitFor();

      // Alice picks the shortest timer in the header.
      await byTestId(a, "timer-button").click();
      await byTestId(a, "timer-dialog").waitFor();
      await byTestId(a, `timer-${TIMER_S}`).click();
      await byTestId(a, "timer-dialog").waitFor({ state: "hidden" });
      await a
        .locator('[data-testid="system-line"][data-event="timer"]', {
          hasText: "You set disappearing messages to 30 seconds.",
        })
        .waitFor();
      await b
        .locator('[data-testid="system-line"][data-event="timer"]', {
          hasText: "alice set disappearing messages to 30 seconds.",
        })
        .waitFor();
      for (const page of [a, b]) assert.equal(await byTestId(page, "timer-indicator").innerText(), "30 s");

      // Bob has the chat open, so the message is read on arrival and its timer starts on both sides.
      const sentAt = Date.now();
      await send(a, "this will vanish");
      await messageText(b, "this will vanish").waitFor();
      await screenshot(b, "privacy-disappearing");
      for (const page of [a, b])
        await messageText(page, "this will vanish").waitFor({
          state: "detached",
          timeout: (TIMER_S + 15) * 1000,
        });
      // Not before its time.
      assert.ok(Date.now() - sentAt >= (TIMER_S - 1) * 1000, "the message vanished before its timer ran out");
      // A message from before the timer stays.
      for (const page of [a, b]) await messageText(page, "before the timer").waitFor();
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );
});
