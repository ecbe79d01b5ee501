// Disappearing messages in the web app: one person sets the chat's timer to its shortest value
// (30 s) from the header; both pages announce it and show it in the header; a message sent then
// vanishes from both pages once it has been read and the timer ran out, while an older one stays.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import { assertNoErrors, screenshot, type TestDevice } from "./harness.ts";
import { byTestId, send, signUpAliceAndBob, startChat } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

const TIMER_S = 30;

const messageText = (page: Page, text: string): Locator =>
  byTestId(page, "message-list").getByTestId("message-text").filter({ hasText: text });

describe("disappearing messages in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let bob: TestDevice;

  before(async () => {
    ({ alice, bob } = await signUpAliceAndBob(suite));
  });

  it(
    "a timer set by one member is announced, and a read message vanishes on both pages",
    { timeout: 58_000 },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await startChat(a, "bob");
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
      await screenshot(b, "web-disappearing");
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
