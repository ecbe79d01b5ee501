// Display names are the sender's to choose, usernames are not: in a group, two people who call
// themselves "alice" (one spelled backwards behind a right-to-left override) show with their real
// usernames beside the name, in the message list, the typing line, reply quotes and group info, and
// the override never reaches the page. The impostors are SDK clients in Node; the real alice uses the
// app in Chromium.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Locator } from "playwright-core";
import type { ChatSummary, SoriClient } from "@sori/sdk";
import { newUser, waitFor } from "../helpers.ts";
import { assertNoErrors, type TestDevice } from "./harness.ts";
import { byTestId, signUp } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

const TEST_TIMEOUT_MS = 45_000;
/** U+202E RIGHT-TO-LEFT OVERRIDE: "ecila" after it shows as "alice". */
const RLO = "\u202e";
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** What a person reads: the text without the isolates the app itself puts around names. */
const shown = async (l: Locator): Promise<string> => (await l.innerText()).replace(/[\u2068\u2069]/g, "");

describe("display names in a group, in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let mallory: SoriClient;
  let trudy: SoriClient;
  let group: ChatSummary;

  before(async () => {
    alice = await suite.open({ locale: "en-US" });
    await signUp(alice.page, "alice", { waitForChatList: true });
    mallory = await newUser(suite.url, "mallory");
    trudy = await newUser(suite.url, "trudy");
    await mallory.setProfile({ displayName: `${RLO}ecila` });
    await trudy.setProfile({ displayName: "alice" });
    group = await mallory.createGroup("Book club", ["alice", "trudy"]);
    await waitFor(
      () => trudy.findChat(group.id),
      (c) => c !== undefined,
    );
    // Profiles go to every chat a person is in: sent again now that the group exists.
    await mallory.setProfile({ displayName: `${RLO}ecila` });
    await trudy.setProfile({ displayName: "alice" });
    await mallory.sendText(group.id, "hello from the real alice");
    await trudy.sendText(group.id, "no, I am alice");
  });

  after(async () => {
    await mallory?.close();
    await trudy?.close();
  });

  it(
    "shows each sender's username beside their display name, and no bidi override",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const a = alice.page;
      await a.locator('[data-testid="chat-item"][data-chat-name="Book club"]').click();
      const list = byTestId(a, "message-list");
      const sender = (from: string): Locator =>
        list.locator(`[data-testid="message"][data-from="${from}"]`).getByTestId("message-sender");
      await list.getByText("no, I am alice").waitFor();
      // Profiles arrive in their own messages: wait until both names are in.
      await a.waitForFunction(() =>
        [...document.querySelectorAll('[data-testid="message-sender"]')].every((el) =>
          el.textContent?.includes("(@"),
        ),
      );
      assert.equal(await shown(sender("mallory")), "ecila (@mallory)");
      assert.equal(await shown(sender("trudy")), "alice (@trudy)");
      const text = (await list.textContent()) ?? "";
      assert.doesNotMatch(
        text.replace(/[\u2068\u2069]/g, ""),
        BIDI_CONTROLS,
        "no bidi control from a name is on the page",
      );
      assertNoErrors(alice);
    },
  );

  it("names the username in the typing line and in reply quotes", { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = alice.page;
    await trudy.setTyping(group.id, true);
    const typing = byTestId(a, "typing-indicator");
    await typing.waitFor();
    assert.equal(await shown(typing), "alice (@trudy) is typing…");
    await trudy.setTyping(group.id, false);

    // Alice replies to trudy's message: the composer and then the quote name trudy by username too.
    const row = byTestId(a, "message-list").locator('[data-testid="message"][data-from="trudy"]');
    await row.hover();
    await row.getByTestId("message-more").click();
    await byTestId(a, "menu-reply").click();
    assert.match(await shown(byTestId(a, "composer-reply")), /Replying to alice \(@trudy\)/);
    await byTestId(a, "composer").fill("which one?");
    await byTestId(a, "composer").press("Enter");
    const quote = byTestId(a, "message-list").getByTestId("reply-quote");
    await quote.waitFor();
    assert.match(await shown(quote), /^Reply to alice \(@trudy\)/);
    // And the others see it the same way: Alice's own display name is unset, so her username it is.
    await waitFor(
      async () => (await mallory.history(group.id)).some((m) => m.text === "which one?"),
      (seen) => seen,
    );
    assertNoErrors(alice);
  });

  it("lists members with their usernames in group info", { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = alice.page;
    await byTestId(a, "group-info-button").click();
    const member = (username: string): Locator =>
      byTestId(a, "member-list").locator(`[data-testid="member"][data-username="${username}"]`);
    await member("trudy").waitFor();
    // The name, and under it the username (the row also has the avatar's initial and buttons).
    const names = (username: string): Locator => member(username).locator(".member-names");
    assert.match(await shown(names("trudy")), /^alice\s+@trudy$/);
    const impostor = await shown(names("mallory"));
    assert.match(impostor, /^ecila\s+@mallory$/);
    assert.doesNotMatch(impostor, BIDI_CONTROLS);
    // The safety button names whom it is about by username as well.
    assert.match(
      (await member("trudy").getByTestId("member-safety").getAttribute("aria-label")) ?? "",
      /alice\u2069? \(@trudy\)/,
    );
    assertNoErrors(alice);
  });
});
