// A person on another network, as an XMPP gateway bridges them: their chat in the web app says it is
// not end-to-end encrypted past the gateway, in English and Korean, and a person can start a chat
// with an XMPP address nobody bridged yet (the gateway is asked to bring them in). A file from an XMPP
// user shows and downloads like any other.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { bridgedIdentity, newUser, receive, waitFor } from "../helpers.ts";
import { byTestId, chatItem, signUp } from "./call-helpers.ts";
import { assertNoErrors, openDevice, screenshot, startWebServer, type TestDevice } from "./harness.ts";

describe("web app: chats with bridged identities (XMPP)", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let gateway: SoriClient | undefined;
  const identities: SoriClient[] = [];
  let device: TestDevice | undefined;

  before(async () => {
    ({ url, stop } = await startWebServer(["--bridges", "xmpp=wbridge_gw"]));
    gateway = await newUser(url, "wbridge_gw");
    gateway.on(
      "bridge-wanted",
      (r) => void bridgedIdentity(gateway!, r.username).then((c) => identities.push(c)),
    );
  });
  after(async () => {
    for (const c of identities) await c.close();
    await gateway?.close();
    await device?.close();
    await stop?.();
  });

  it("labels a chat with an XMPP user as not end-to-end encrypted past the gateway", async () => {
    device = await openDevice(url);
    await signUp(device.page, "wbridge_mina");
    const juliet = await bridgedIdentity(gateway!, "xmpp:juliet@xmpp.example.org");
    identities.push(juliet);
    await juliet.sendText("wbridge_mina", "hello from XMPP");
    await chatItem(device.page, "xmpp:juliet@xmpp.example.org").click();
    const notice = byTestId(device.page, "bridged-notice");
    await notice.waitFor();
    assert.equal(await notice.innerText(), "via XMPP — not end-to-end encrypted past the gateway");
    await screenshot(device.page, "web-bridged-chat");
    assertNoErrors(device);
  });

  it("shows a file from an XMPP user like any other, and downloads it byte for byte", async () => {
    const page = device!.page;
    const juliet = identities.find((c) => c.username === "xmpp:juliet@xmpp.example.org")!;
    // What the gateway does with a file an XMPP user links to: the identity sends it with sendFile.
    const bytes = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 31) % 256));
    await juliet.sendFile(
      "wbridge_mina",
      { name: "보고서.pdf", mime: "application/pdf", bytes },
      { caption: "첨부" },
    );
    const card = byTestId(page, "file-card").filter({ hasText: "보고서.pdf" });
    await card.waitFor({ timeout: 15_000 });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card.getByTestId("file-download").click(),
    ]);
    assert.equal(download.suggestedFilename(), "보고서.pdf");
    assert.ok(readFileSync(await download.path()).equals(bytes), "byte for byte");
    await screenshot(page, "web-bridged-file");
    assertNoErrors(device!);
  });

  it("starts a chat with an XMPP address nobody bridged yet, and the message reaches them", async () => {
    const page = device!.page;
    await byTestId(page, "back-button")
      .click()
      .catch(() => undefined);
    await byTestId(page, "chat-search").fill("xmpp:romeo@xmpp.example.org");
    await byTestId(page, "search-person").getByRole("button").click();
    // The chat opens once the gateway brought romeo in (the pane shows the last chat meanwhile).
    await page
      .locator('[data-testid="conversation-title"]', { hasText: "xmpp:romeo@xmpp.example.org" })
      .waitFor({ timeout: 25_000 });
    const composer = byTestId(page, "composer");
    await composer.fill("wherefore art thou");
    await composer.press("Enter");
    await byTestId(page, "bridged-notice").waitFor();
    const romeo = await waitFor(
      async () => identities.find((c) => c.username === "xmpp:romeo@xmpp.example.org"),
      (c) => c !== undefined,
    );
    assert.ok(romeo, "the gateway was asked for romeo and brought him in");
    const [m] = await receive(romeo, 1, 15_000);
    assert.equal(m!.text, "wherefore art thou");
    assertNoErrors(device!);
  });

  it("shows a message the other network refused as not delivered, with its reason and no retry", async () => {
    const page = device!.page;
    const romeo = identities.find((c) => c.username === "xmpp:romeo@xmpp.example.org")!;
    const composer = byTestId(page, "composer");
    await composer.fill("are you still there?");
    await composer.press("Enter");
    const [m] = await receive(romeo, 1, 15_000);
    assert.equal(m!.text, "are you still there?");
    await romeo.reportUndelivered(m!.chat, [m!.id], "this address does not exist");
    const row = page.locator(`[data-testid="message"][data-message-id="${m!.id}"]`);
    const note = row.locator('[data-testid="message-undelivered"]');
    await note.waitFor({ timeout: 15_000 });
    assert.equal(
      await note.innerText(),
      "Not delivered to xmpp:romeo@xmpp.example.org: this address does not exist",
    );
    assert.equal(await row.getAttribute("data-status"), "failed");
    assert.equal(await row.locator('[data-testid="retry-button"]').count(), 0);
    await screenshot(page, "web-bridged-undelivered");
    assertNoErrors(device!);
  });

  it("says it in Korean too", async () => {
    const ko = await openDevice(url, { locale: "ko-KR" });
    try {
      await signUp(ko.page, "wbridge_suji");
      const juliet = identities.find((c) => c.username === "xmpp:juliet@xmpp.example.org")!;
      await juliet.sendText("wbridge_suji", "안녕");
      await chatItem(ko.page, "xmpp:juliet@xmpp.example.org").click();
      const notice = byTestId(ko.page, "bridged-notice");
      await notice.waitFor();
      assert.equal(await notice.innerText(), "XMPP 경유 — 게이트웨이 너머로는 종단간 암호화되지 않아요");
      assertNoErrors(ko);
    } finally {
      await ko.close();
    }
  });
});
