// The web app end to end in real Chromium: people sign up, find each other, chat live, form a group,
// send stickers, reload, add a second device, switch language, and use a phone-sized screen. Every
// device must finish without a page error or console error. Screenshots of the main screens go to
// test-output/screenshots/ for a person to look at.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Locator, Page, WebSocketRoute } from "playwright-core";
import { signInApproved } from "./approval.ts";
import {
  assertNoErrors,
  forgetExpectedErrors,
  REFUSED_REQUEST,
  screenshot,
  type TestDevice,
} from "./harness.ts";
import { byTestId, PASSWORD, send, signUp, startChat } from "./people.ts";
import { solidPng } from "./png.ts";
import { useWebSuite } from "./web-suite.ts";

const TEST_TIMEOUT_MS = 90_000;
const MOBILE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };

const chatItem = (page: Page, name: string): Locator =>
  page.locator(`[data-testid="chat-item"][data-chat-name="${name}"]`);
const messageText = (page: Page, text: string): Locator =>
  page.getByTestId("message-list").getByTestId("message-text").filter({ hasText: text });

async function signIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await byTestId(page, "auth-mode-login").click();
  await byTestId(page, "auth-username").fill(username);
  await byTestId(page, "auth-password").fill(password);
  await byTestId(page, "auth-submit").click();
}

async function waitConnected(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}

async function openChat(page: Page, name: string): Promise<void> {
  await chatItem(page, name).click();
  await byTestId(page, "composer").waitFor();
}

describe("web app in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let bob: TestDevice;
  let carol: TestDevice;
  let phoneOfCarol: TestDevice | undefined;

  it(
    "two people sign up, find each other by username and chat live both ways",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      alice = await suite.open({ locale: "en-US", ...DESKTOP });
      bob = await suite.open({ locale: "en-US", ...DESKTOP });
      await screenshot(alice.page, "desktop-en-sign-in");
      await Promise.all([
        signUp(alice.page, "alice", { waitForChatList: true }),
        signUp(bob.page, "bob", { waitForChatList: true }),
      ]);

      // Alice searches for bob, who is not in her list yet, and starts a chat from the search result.
      await startChat(alice.page, "bob");
      await byTestId(alice.page, "composer").waitFor();
      await send(alice.page, "Hello Bob 👋");
      await messageText(alice.page, "Hello Bob").waitFor();

      // Bob sees the chat and the message appear without reloading.
      // The chat appears when Bob's device joins it; the message then makes it unread.
      await chatItem(bob.page, "alice").and(bob.page.locator('[data-unread="1"]')).waitFor();
      await openChat(bob.page, "alice");
      await messageText(bob.page, "Hello Bob").waitFor();

      // Alice's message goes from sending to delivered once Bob's device decrypted it.
      await alice.page.locator('[data-testid="message"][data-status="delivered"]').first().waitFor();

      // Shift+Enter starts a new line; Enter sends.
      const composer = byTestId(bob.page, "composer");
      await composer.fill("Hi Alice!");
      await composer.press("Shift+Enter");
      await composer.pressSequentially("Two lines.");
      await composer.press("Enter");
      const reply = messageText(alice.page, "Hi Alice!");
      await reply.waitFor();
      assert.equal(await reply.innerText(), "Hi Alice!\nTwo lines.");
      await bob.page.locator('[data-testid="message"][data-status="delivered"]').first().waitFor();
      assert.equal(await composer.inputValue(), "");

      await screenshot(alice.page, "desktop-en-conversation");
      await alice.page.goto(`${suite.url}/#/`);
      await screenshot(alice.page, "desktop-en-chat-list");
      await alice.page.goto(`${suite.url}/#/`);
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );

  it("explains errors: unknown user, wrong password", { timeout: TEST_TIMEOUT_MS }, async () => {
    await byTestId(alice.page, "new-chat-button").click();
    await byTestId(alice.page, "new-chat-username").fill("nobody-here");
    await byTestId(alice.page, "new-chat-submit").click();
    assert.match(await byTestId(alice.page, "new-chat-error").innerText(), /no one with that username/i);
    await alice.page.keyboard.press("Escape");
    await byTestId(alice.page, "new-chat-dialog").waitFor({ state: "hidden" });

    const stranger = await suite.open({ locale: "en-US", ...DESKTOP });
    await signIn(stranger.page, "alice", "not the password");
    assert.match(await byTestId(stranger.page, "auth-error").innerText(), /wrong username or password/i);
    // Chromium logs the refused sign-in's HTTP 401 as a console error; that one is expected here.
    forgetExpectedErrors(stranger, REFUSED_REQUEST);
    assertNoErrors(stranger);
    await stranger.close();
    assertNoErrors(alice);
  });

  it(
    "a third person joins through a group, and an emoticon arrives as a sticker",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      carol = await suite.open({ locale: "en-US", ...DESKTOP });
      await signUp(carol.page, "carol", { waitForChatList: true });

      // Alice creates the group: bob from her chats, carol by username.
      await byTestId(alice.page, "new-group-button").click();
      await byTestId(alice.page, "group-name").fill("Hikers");
      await alice.page.locator('[data-testid="group-member-chip"]', { hasText: "bob" }).click();
      await byTestId(alice.page, "group-member-input").fill("carol");
      await byTestId(alice.page, "group-member-add").click();
      await alice.page
        .locator('[data-testid="group-member-chip"][aria-pressed="true"]', { hasText: "carol" })
        .waitFor();
      await byTestId(alice.page, "group-create").click();
      await byTestId(alice.page, "conversation-title").filter({ hasText: "Hikers" }).waitFor();

      await openChat(carol.page, "Hikers");
      await openChat(bob.page, "Hikers");

      // Bob sends a sticker from the picker; Alice and Carol see it as a large sticker.
      await byTestId(bob.page, "emoticon-button").click();
      await byTestId(bob.page, "emoticon-picker").waitFor();
      await screenshot(bob.page, "desktop-en-emoticon-picker");
      // Keyboard navigation: the first sticker has focus; Right moves to the second.
      await bob.page.keyboard.press("ArrowRight");
      assert.equal(
        await bob.page.evaluate(() => document.activeElement?.getAttribute("data-sticker-id")),
        "love",
      );
      await bob.page.locator('[data-testid="emoticon-option"][data-sticker-id="party"]').click();
      await byTestId(bob.page, "emoticon-picker").waitFor({ state: "hidden" });
      const sticker = '[data-testid="message-list"] [data-testid="sticker"][data-sticker="sori/party"]';
      await alice.page.locator(sticker).waitFor();
      await carol.page.locator(sticker).waitFor();
      const box = await carol.page.locator(sticker).boundingBox();
      assert.ok(box && box.width >= 100, `the sticker is large (${box?.width ?? 0} px)`);

      // Esc closes the picker and gives focus back to its button.
      await byTestId(alice.page, "emoticon-button").click();
      await byTestId(alice.page, "emoticon-picker").waitFor();
      await alice.page.keyboard.press("Escape");
      await byTestId(alice.page, "emoticon-picker").waitFor({ state: "hidden" });
      assert.equal(
        await alice.page.evaluate(() => document.activeElement?.getAttribute("data-testid")),
        "emoticon-button",
      );

      await send(carol.page, "I'm in! 🥾");
      await messageText(alice.page, "I'm in!").waitFor();
      await messageText(bob.page, "I'm in!").waitFor();
      await screenshot(carol.page, "desktop-en-group-conversation");

      // Group info: three members; a rename reaches the others.
      await byTestId(alice.page, "group-info-button").click();
      await byTestId(alice.page, "group-info").waitFor();
      assert.equal(await byTestId(alice.page, "member").count(), 3);
      await screenshot(alice.page, "desktop-en-group-info");
      await byTestId(alice.page, "group-rename-input").fill("Weekend hikers");
      await byTestId(alice.page, "group-rename-save").click();
      await byTestId(alice.page, "group-info-name").filter({ hasText: "Weekend hikers" }).waitFor();
      await chatItem(bob.page, "Weekend hikers").waitFor();
      await chatItem(carol.page, "Weekend hikers").waitFor();
      await byTestId(alice.page, "group-info-back").click();

      for (const d of [alice, bob, carol]) assertNoErrors(d);
    },
  );

  it("keeps local history across a reload", { timeout: TEST_TIMEOUT_MS }, async () => {
    await alice.page.reload();
    await byTestId(alice.page, "new-chat-button").waitFor();
    await openChat(alice.page, "bob");
    await messageText(alice.page, "Hello Bob").waitFor();
    await messageText(alice.page, "Hi Alice!").waitFor();
    await waitConnected(alice.page);
    // And still live after the reload.
    await bob.page.goto(`${suite.url}/#/`);
    await openChat(bob.page, "alice");
    await send(bob.page, "Still there after the reload?");
    await messageText(alice.page, "Still there after the reload?").waitFor();
    assertNoErrors(alice);
    assertNoErrors(bob);
  });

  it("a second device of the same person receives new messages", { timeout: TEST_TIMEOUT_MS }, async () => {
    const laptop = await suite.open({ locale: "en-US", ...DESKTOP });
    // Alice's first device approves the laptop's sign-in.
    await signInApproved(laptop.page, "alice", alice.page);

    await send(bob.page, "Are you on your laptop now?");
    await chatItem(laptop.page, "bob").waitFor();
    await openChat(laptop.page, "bob");
    await messageText(laptop.page, "Are you on your laptop now?").waitFor();
    // The first device gets it too.
    await messageText(alice.page, "Are you on your laptop now?").waitFor();

    // The devices list in settings shows both devices.
    await byTestId(laptop.page, "settings-button").click();
    await byTestId(laptop.page, "devices").waitFor();
    await laptop.page.locator('[data-testid="device"]').nth(1).waitFor();
    assert.equal(await laptop.page.locator('[data-testid="device"]').count(), 2);
    await screenshot(laptop.page, "desktop-en-settings");
    assertNoErrors(laptop);
    assertNoErrors(bob);
  });

  it("shares a display name and photo with chat partners", { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = alice.page;
    await byTestId(page, "settings-button").click();
    await byTestId(page, "display-name-input").fill("Alice Kim");
    await byTestId(page, "profile-save").click();
    await byTestId(page, "toast").filter({ hasText: "Profile saved" }).waitFor();
    await byTestId(page, "avatar-input").setInputFiles({
      name: "me.png",
      mimeType: "image/png",
      buffer: solidPng(300, 200, [47, 174, 142]),
    });
    await byTestId(page, "toast").filter({ hasText: "Photo updated" }).waitFor();
    // Bob's chat list shows her name and photo, sent encrypted inside their chat.
    await chatItem(bob.page, "alice").filter({ hasText: "Alice Kim" }).waitFor();
    await chatItem(bob.page, "alice").locator("img.avatar").waitFor();
    const size = await chatItem(bob.page, "alice")
      .locator("img.avatar")
      .evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
    assert.deepEqual(size, [128, 128], "the photo was cropped and scaled to 128 px");
    await screenshot(page, "desktop-en-settings-profile");
    assertNoErrors(alice);
    assertNoErrors(bob);
  });

  it(
    "shows “connecting…” while the server is unreachable, then reconnects",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      // Bob's WebSocket runs through a route the test can cut, like a network drop; while "down",
      // reconnection attempts are refused.
      let down = false;
      const links = new Set<WebSocketRoute>();
      await bob.page.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
        if (down) return void ws.close({ code: 1011, reason: "test: network down" });
        const server = ws.connectToServer();
        links.add(ws).add(server);
      });
      await bob.page.reload();
      await waitConnected(bob.page);

      down = true;
      for (const link of links) await link.close({ code: 1011, reason: "test: network down" });
      links.clear();
      await bob.page.locator('[data-testid="connection"]:not([data-state="connected"])').waitFor();
      assert.match(await byTestId(bob.page, "connection").innerText(), /Connecting…/);
      await screenshot(bob.page, "desktop-en-connecting");

      down = false;
      await waitConnected(bob.page);

      await openChat(alice.page, "bob");
      // Messages flow again after the reconnect.
      await openChat(bob.page, "alice");
      await send(bob.page, "Back online");
      await messageText(alice.page, "Back online").waitFor();
      await bob.page.unrouteAll();
      assertNoErrors(bob);
    },
  );

  it("pages back through local history when scrolled up", { timeout: 2 * TEST_TIMEOUT_MS }, async () => {
    await openChat(alice.page, "bob");
    for (let i = 1; i <= 60; i++) await send(bob.page, `Count ${i}`);
    // A burst from the web app is slow to flow (about a second a message on a busy machine: issue 20's
    // "sending a burst is slow"); this test is about paging, so it waits for the burst to arrive.
    await messageText(alice.page, "Count 60").waitFor({ timeout: 90_000 });
    // Open the chat afresh: only the newest page is read from local history.
    await alice.page.goto(`${suite.url}/#/`);
    await openChat(alice.page, "bob");
    await messageText(alice.page, "Count 60").waitFor();
    // Only the newest page of history is in the list at first.
    assert.equal(await alice.page.getByText("Count 1", { exact: true }).count(), 0);
    const list = byTestId(alice.page, "message-list");
    for (let i = 0; i < 5 && (await alice.page.getByText("Count 1", { exact: true }).count()) === 0; i++) {
      await list.evaluate((el) => el.scrollTo({ top: 0 }));
      await alice.page.waitForTimeout(300);
    }
    await alice.page.getByText("Count 1", { exact: true }).waitFor();
    assertNoErrors(alice);
    assertNoErrors(bob);
  });

  it(
    "switches to Korean in settings, and follows a Korean browser",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const page = alice.page;
      await byTestId(page, "settings-button").click();
      await byTestId(page, "language-select").selectOption("ko");
      await page.getByRole("heading", { name: "설정" }).waitFor();
      assert.equal(await byTestId(page, "new-chat-button").getAttribute("aria-label"), "새 채팅");
      assert.equal(await byTestId(page, "new-group-button").getAttribute("aria-label"), "그룹 만들기");
      assert.equal(await page.evaluate(() => document.documentElement.lang), "ko");
      await screenshot(page, "desktop-ko-settings");
      await openChat(page, "Weekend hikers");
      assert.equal(await byTestId(page, "composer").getAttribute("placeholder"), "메시지 입력");
      assert.equal(await byTestId(page, "send-button").getAttribute("aria-label"), "보내기");
      await screenshot(page, "desktop-ko-conversation");
      await byTestId(page, "emoticon-button").click();
      await screenshot(page, "desktop-ko-emoticon-picker");
      await page.keyboard.press("Escape");

      // The dark theme, then back to following the system.
      await byTestId(page, "settings-button").click();
      await byTestId(page, "theme-dark").click();
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
      await openChat(page, "Weekend hikers");
      await screenshot(page, "desktop-ko-dark-conversation");
      await byTestId(page, "settings-button").click();
      await screenshot(page, "desktop-ko-dark-settings");
      await byTestId(page, "theme-system").click();

      // A browser set to Korean starts in Korean.
      const fresh = await suite.open({ locale: "ko-KR", ...MOBILE });
      assert.equal(await byTestId(fresh.page, "auth-submit").innerText(), "로그인");
      await screenshot(fresh.page, "mobile-ko-sign-in");
      assertNoErrors(fresh);
      assertNoErrors(alice);
    },
  );

  it("works on a 375 px phone screen, one pane at a time", { timeout: TEST_TIMEOUT_MS }, async () => {
    const phone = await suite.open({ locale: "ko-KR", ...MOBILE });
    const page = phone.page;
    await openChat(alice.page, "Weekend hikers");
    await signInApproved(page, "carol", carol.page);
    // A message to the group brings this new device into it.
    await send(alice.page, "폰에서도 보여요? 📱");
    await chatItem(page, "Weekend hikers").filter({ hasText: "폰에서도" }).waitFor();
    await screenshot(page, "mobile-ko-chat-list");
    await openChat(page, "Weekend hikers");
    await messageText(page, "폰에서도 보여요?").waitFor();
    // The list is hidden while a chat is open, and nothing is wider than the screen.
    assert.equal(await byTestId(page, "chat-search").isVisible(), false);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow (${overflow} px)`);
    await send(page, "네, 잘 보여요!");
    await messageText(alice.page, "네, 잘 보여요!").waitFor();
    await screenshot(page, "mobile-ko-conversation");
    await byTestId(page, "emoticon-button").click();
    await screenshot(page, "mobile-ko-emoticon-picker");
    await page.keyboard.press("Escape");
    await byTestId(page, "group-info-button").click();
    await byTestId(page, "group-info").waitFor();
    await screenshot(page, "mobile-ko-group-info");
    await byTestId(page, "group-info-back").click();
    await byTestId(page, "back-button").click();
    await byTestId(page, "chat-search").waitFor();

    // The same screens in English.
    await byTestId(page, "settings-button").click();
    await byTestId(page, "language-select").selectOption("en");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await screenshot(page, "mobile-en-settings");
    await page.goto(`${suite.url}/#/`);
    await byTestId(page, "chat-search").waitFor();
    await screenshot(page, "mobile-en-chat-list");
    await openChat(page, "Weekend hikers");
    await screenshot(page, "mobile-en-conversation");
    assertNoErrors(phone);
    for (const d of [alice, bob, carol]) assertNoErrors(d);
    phoneOfCarol = phone;
  });

  it(
    "group info adds and removes members, and a member can leave",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const dave = await suite.open({ locale: "en-US", ...DESKTOP });
      await signUp(dave.page, "dave", { waitForChatList: true });

      await openChat(alice.page, "Weekend hikers");
      await byTestId(alice.page, "group-info-button").click();
      await byTestId(alice.page, "add-member-input").fill("dave");
      await byTestId(alice.page, "add-member-submit").click();
      await alice.page.locator('[data-testid="member"][data-username="dave"]').waitFor();
      await chatItem(dave.page, "Weekend hikers").waitFor();

      // Removing Carol ends the chat on her phone.
      const carolRow = alice.page.locator('[data-testid="member"][data-username="carol"]');
      await carolRow.getByTestId("remove-member").click();
      await carolRow.getByTestId("remove-member-confirm").click();
      await carolRow.waitFor({ state: "detached" });
      const phone = phoneOfCarol;
      assert.ok(phone, "Carol's phone from the previous test");
      await phone.page.getByRole("note").filter({ hasText: "You are no longer in this chat." }).waitFor();
      await screenshot(phone.page, "mobile-en-removed");

      // Bob leaves by himself; the others' devices commit his removal.
      await openChat(bob.page, "Weekend hikers");
      await byTestId(bob.page, "group-info-button").click();
      await byTestId(bob.page, "leave-group").click();
      await byTestId(bob.page, "leave-group-confirm").click();
      // Leaving returns to the chat list; the chat stays there, read-only.
      await byTestId(bob.page, "group-info").waitFor({ state: "detached" });
      await chatItem(bob.page, "Weekend hikers").click();
      await bob.page.getByRole("note").filter({ hasText: "You are no longer in this chat." }).waitFor();

      // The group still works for the ones who stayed.
      await byTestId(alice.page, "group-info-back").click();
      await send(alice.page, "Welcome, Dave!");
      await openChat(dave.page, "Weekend hikers");
      await messageText(dave.page, "Welcome, Dave!").waitFor();
      // Checked after a message: the SDK emits no "chat" event for a membership commit made by this
      // device itself (here, Bob's removal), so the list catches up with the next event.
      await byTestId(alice.page, "group-info-button").click();
      await alice.page.locator('[data-testid="member"][data-username="bob"]').waitFor({ state: "detached" });
      assert.equal(await byTestId(alice.page, "member").count(), 2);
      for (const d of [alice, bob, dave, phone]) assertNoErrors(d);
    },
  );
});
