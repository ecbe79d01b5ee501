// Message features in the web app, two people in real Chromium: reply (with a quote that jumps to
// the original), reactions (toggle), edit ("edited"), delete for everyone ("message deleted" on both
// pages, the text gone everywhere, quotes included), forward, read state, typing indicators (and
// none sent once switched off), and search over local history.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import { assertNoErrors, screenshot, type TestDevice } from "./harness.ts";
import { byTestId, send, signUpAliceAndBob, startChat } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

const TEST_TIMEOUT_MS = 60_000;

const list = (page: Page): Locator => byTestId(page, "message-list");
const message = (page: Page, text: string): Locator =>
  list(page)
    .getByTestId("message")
    .filter({ has: page.getByTestId("message-text").filter({ hasText: text }) });

/** Opens a message's menu as a desktop user would: hover, then its "more" button. */
async function openMenu(page: Page, row: Locator): Promise<Locator> {
  await row.hover();
  await row.getByTestId("message-more").click();
  const menu = byTestId(page, "message-menu");
  await menu.waitFor();
  return menu;
}

/** Records whether the typing indicator ever appears, so a brief flash cannot slip between polls. */
async function watchTyping(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { sawTyping: boolean };
    w.sawTyping = false;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="typing-indicator"]')) w.sawTyping = true;
    }).observe(document.body, { childList: true, subtree: true });
  });
}

describe("message features in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let bob: TestDevice;

  before(async () => {
    ({ alice, bob } = await signUpAliceAndBob(suite, { waitForChatList: true }));
    await startChat(alice.page, "bob");
    await byTestId(alice.page, "composer").waitFor();
  });

  it(
    "reply, react, edit and delete for everyone show on both pages; read state; forward",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await send(a, "Lunch at noon?");
      await b.locator('[data-testid="chat-item"][data-chat-name="alice"]').click();
      await message(b, "Lunch at noon?").waitFor();
      // Bob has read it: Alice's copy shows "Read".
      await message(a, "Lunch at noon?").and(a.locator('[data-read="true"]')).waitFor();

      // Bob replies from the menu; the reply carries a quote of the original.
      await (await openMenu(b, message(b, "Lunch at noon?"))).getByTestId("menu-reply").click();
      await byTestId(b, "composer-reply").waitFor();
      await send(b, "Yes, the usual place");
      assert.equal(await byTestId(b, "composer-reply").count(), 0);
      const reply = message(a, "Yes, the usual place");
      await reply.waitFor();
      assert.match(await reply.getByTestId("reply-quote").innerText(), /Lunch at noon\?/);
      // The quote scrolls to the original and highlights it.
      await reply.getByTestId("reply-quote").click();
      await a.locator('[data-testid="message"].highlight').filter({ hasText: "Lunch at noon?" }).waitFor();

      // Alice reacts with a right-click, as on a desktop; both pages show the reaction.
      await reply.click({ button: "right" });
      await byTestId(a, "message-menu").locator('[data-testid="reaction-choice"][data-emoji="👍"]').click();
      await byTestId(a, "message-menu").waitFor({ state: "hidden" });
      const bobsView = message(b, "Yes, the usual place");
      await bobsView.locator('[data-testid="reaction"][data-emoji="👍"][data-count="1"]').waitFor();
      // Bob adds his with a click on the chip; Alice then takes hers back (a toggle).
      await bobsView.locator('[data-testid="reaction"][data-emoji="👍"]').click();
      await reply.locator('[data-testid="reaction"][data-emoji="👍"][data-count="2"]').waitFor();
      await reply.locator('[data-testid="reaction"][data-emoji="👍"][aria-pressed="true"]').click();
      await bobsView
        .locator('[data-testid="reaction"][data-emoji="👍"][data-count="1"][aria-pressed="true"]')
        .waitFor();
      // Any emoji, not only the quick ones.
      await openMenu(b, bobsView);
      await byTestId(b, "reaction-more").click();
      await byTestId(b, "reaction-any").fill("🦄");
      await byTestId(b, "reaction-any").press("Enter");
      await reply.locator('[data-testid="reaction"][data-emoji="🦄"]').waitFor();

      // Alice edits her message: both pages show the new text, marked as edited.
      await (await openMenu(a, message(a, "Lunch at noon?"))).getByTestId("menu-edit").click();
      await byTestId(a, "composer-edit").waitFor();
      assert.equal(await byTestId(a, "composer").inputValue(), "Lunch at noon?");
      await send(a, "Lunch at 12:30?");
      await message(b, "Lunch at 12:30?").getByTestId("message-edited").waitFor();
      await message(a, "Lunch at 12:30?").getByTestId("message-edited").waitFor();
      await screenshot(b, "web-reply-reaction-edit");

      // Bob forwards his reply (into the same chat, the only one he has): marked as forwarded.
      await (await openMenu(b, bobsView.first())).getByTestId("menu-forward").click();
      await byTestId(b, "forward-dialog").getByTestId("forward-target").first().click();
      await list(a).locator('[data-testid="message"]', { hasText: "Forwarded" }).waitFor();

      // Alice deletes the edited message for everyone: gone from both pages, including quotes.
      await (await openMenu(a, message(a, "Lunch at 12:30?"))).getByTestId("menu-delete-everyone").click();
      await byTestId(a, "confirm-delete-everyone").click();
      for (const page of [a, b]) {
        await list(page).getByTestId("message-deleted").waitFor();
        await page.waitForFunction(() => {
          const text = document.querySelector('[data-testid="message-list"]')?.textContent ?? "";
          return !text.includes("Lunch at");
        });
      }
      await screenshot(a, "web-deleted");
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );

  it(
    "shows who is typing; sends no typing or read receipts once they are off",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await byTestId(b, "composer").fill("I am wri");
      await byTestId(a, "typing-indicator").filter({ hasText: "bob is typing" }).waitFor();
      // Clearing the box says "stopped".
      await byTestId(b, "composer").fill("");
      await byTestId(a, "typing-indicator").waitFor({ state: "hidden" });

      // Bob switches typing indicators off in settings.
      await b.goto(`${suite.url}/#/settings`);
      const toggle = byTestId(b, "setting-typing");
      await toggle.uncheck();
      await b.getByText("Privacy settings saved.").waitFor();
      assert.equal(await toggle.isChecked(), false);
      // Read receipts off as well.
      await byTestId(b, "setting-read-receipts").uncheck();
      await b.locator('[data-testid="setting-read-receipts"]:not(:checked):not(:disabled)').waitFor();
      await b.goBack();
      await byTestId(b, "composer").waitFor();

      // Bob reads this with the chat open, but no receipt goes out.
      await send(a, "are you there?");
      await message(b, "are you there?").waitFor();

      await watchTyping(a);
      await byTestId(b, "composer").pressSequentially("nobody sees me typing", { delay: 40 });
      // Give a "typing" frame ample time to arrive, then prove the link works with a real message.
      await a.waitForTimeout(2500);
      await byTestId(b, "composer").press("Enter");
      await message(a, "nobody sees me typing").waitFor();
      assert.equal(await a.evaluate(() => (window as unknown as { sawTyping: boolean }).sawTyping), false);
      // Bob's message came after his reading, on the same ordered path: a receipt would be here by now.
      assert.equal(await message(a, "are you there?").getAttribute("data-read"), null);
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );

  it("search finds a message in local history and opens it", { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = alice.page;
    await a.goto(`${suite.url}/#/`);
    await byTestId(a, "chat-search").fill("usual place");
    const result = byTestId(a, "search-result").filter({ hasText: "Yes, the usual place" });
    await result.first().waitFor();
    // Deleted text is not searchable.
    await byTestId(a, "chat-search").fill("12:30");
    await byTestId(a, "chat-search").press("End");
    await a.waitForTimeout(600);
    assert.equal(await byTestId(a, "search-result").count(), 0);
    await byTestId(a, "chat-search").fill("usual place");
    await result.first().click();
    await a.locator('[data-testid="message"].highlight').filter({ hasText: "usual place" }).waitFor();
    assertNoErrors(alice);
    assertNoErrors(bob);
  });

  it(
    "on a phone in dark mode and Korean, holding a bubble opens its menu",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const b = bob.page;
      await b.setViewportSize({ width: 375, height: 812 });
      await b.evaluate(() => {
        localStorage.setItem("sori.theme", "dark");
        localStorage.setItem("sori.language", "ko");
      });
      await b.reload();
      // The chat stays open across the reload (the hash keeps the route); a phone shows only it.
      await byTestId(b, "composer").waitFor();
      const row = message(b, "usual place").first();
      await row.waitFor();
      // A touch that is held (no pointerup) for longer than the long-press delay.
      const box = await row.getByTestId("message-text").boundingBox();
      assert.ok(box);
      await row.getByTestId("message-text").dispatchEvent("pointerdown", {
        pointerType: "touch",
        isPrimary: true,
        clientX: box.x + 5,
        clientY: box.y + 5,
      });
      await byTestId(b, "message-menu").waitFor();
      // In Korean: the menu, and the reply quote's label in the bubble.
      assert.equal(await byTestId(b, "menu-reply").innerText(), "답장");
      assert.match(await row.getByTestId("reply-quote").innerText(), /alice에게 답장/);
      await screenshot(b, "web-phone-dark-menu-ko");
      await b.keyboard.press("Escape");
      await byTestId(b, "message-menu").waitFor({ state: "hidden" });
      assertNoErrors(bob);
    },
  );
});
