// A contact request in the web app: in the direct chat with the person who asked, a banner with
// Accept and Decline (English and Korean); the answer reaches them and the banner goes. The one who
// asks here is a bridged identity, as the XMPP gateway makes one for an XMPP subscription, and a
// Sori user (no Prosody needed: the gateway's side is an SDK client).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { bridgedIdentity, newUser, waitFor } from "../helpers.ts";
import type { Locator, Page } from "playwright-core";
import { byTestId, chatItem, signUp } from "./call-helpers.ts";
import { assertNoErrors, openDevice, screenshot, startWebServer, type TestDevice } from "./harness.ts";

/** A line the SDK wrote into the open chat (the chat list's preview may say the same). */
const systemLine = (page: Page, text: string): Locator =>
  byTestId(page, "message-list").getByTestId("system-line").filter({ hasText: text });

describe("web app: contact requests", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let gateway: SoriClient | undefined;
  const clients: SoriClient[] = [];
  let device: TestDevice | undefined;

  before(async () => {
    ({ url, stop } = await startWebServer(["--bridges", "xmpp=wcont_gw"]));
    gateway = await newUser(url, "wcont_gw");
  });
  after(async () => {
    for (const c of clients) await c.close();
    await gateway?.close();
    await device?.close();
    await stop?.();
  });

  it("shows an XMPP user's request with Accept; accepting reaches them and the banner goes", async () => {
    device = await openDevice(url);
    const page = device.page;
    await signUp(page, "wcont_mina");
    const juliet = await bridgedIdentity(gateway!, "xmpp:juliet@xmpp.example.org");
    clients.push(juliet);
    await juliet.contacts.request("wcont_mina");
    await chatItem(page, "xmpp:juliet@xmpp.example.org").click();
    const banner = byTestId(page, "contact-banner");
    await banner.waitFor();
    assert.equal(
      await byTestId(page, "contact-banner-text").innerText(),
      "xmpp:juliet@xmpp.example.org wants to be your contact and to see when you're online.",
    );
    await screenshot(page, "web-contact-request");
    await byTestId(page, "contact-accept").click();
    await banner.waitFor({ state: "detached" });
    const theirs = await waitFor(
      () => juliet.contacts.get("wcont_mina"),
      (c) => c?.state === "accepted",
    );
    assert.equal(theirs?.by, "them");
    // The step is a line of the chat, and the banner stays gone when the chat is opened again.
    await systemLine(page, "You accepted xmpp:juliet@xmpp.example.org as a contact.").waitFor();
    await page.reload();
    await chatItem(page, "xmpp:juliet@xmpp.example.org").click();
    await systemLine(page, "You accepted xmpp:juliet@xmpp.example.org as a contact.").waitFor();
    assert.equal(await banner.count(), 0);
    assertNoErrors(device);
  });

  it("declines a Sori user's request, in Korean; they may ask again and the banner is back", async () => {
    const ko = await openDevice(url, { locale: "ko-KR" });
    try {
      await signUp(ko.page, "wcont_suji");
      const minho = await newUser(url, "wcont_minho");
      clients.push(minho);
      await minho.contacts.request("wcont_suji");
      await chatItem(ko.page, "wcont_minho").click();
      const banner = byTestId(ko.page, "contact-banner");
      await banner.waitFor();
      assert.equal(
        await byTestId(ko.page, "contact-banner-text").innerText(),
        "wcont_minho 님이 연락처 추가를 요청했어요.",
      );
      assert.equal(await byTestId(ko.page, "contact-decline").innerText(), "거절");
      assert.equal(await byTestId(ko.page, "contact-accept").innerText(), "수락");
      await byTestId(ko.page, "contact-decline").click();
      await banner.waitFor({ state: "detached" });
      await waitFor(
        () => minho.contacts.get("wcont_suji"),
        (c) => c?.state === "declined" && c.by === "them",
      );
      await systemLine(ko.page, "wcont_minho 님의 연락처 요청을 거절했어요.").waitFor();
      await minho.contacts.request("wcont_suji");
      await banner.waitFor();
      assertNoErrors(ko);
    } finally {
      await ko.close();
    }
  });
});
