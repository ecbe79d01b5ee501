// What someone else sends is not trusted in the web app: an SVG "photo" and an HTML file that carry
// script, and a sticker pack whose image is really SVG. The sender is an SDK client in Node that sends
// whatever it likes; the receiver is the app in Chromium. Nothing they carry runs in the app's origin,
// however it is opened (the viewer, a download, its blob: URL as a page of its own), the SVG is never
// drawn as an image, and downloads keep their names.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { ChatSummary, SoriClient } from "@sori/sdk";
import { newUser } from "../helpers.ts";
import { assertNoErrors, type TestDevice } from "./harness.ts";
import { byTestId, signUp } from "./people.ts";
import { solidPng } from "./png.ts";
import { useWebSuite } from "./web-suite.ts";

const TEST_TIMEOUT_MS = 45_000;

/** What the payloads do if they ever run in the app's origin: leave a mark the app's page can see. */
const MARK = "sori-test-pwned";
// No "&" or "<": the same text must be valid inside the SVG (XML) and the HTML.
const SCRIPT = `localStorage.setItem("${MARK}", location.href); document.title = "pwned"; if (window.opener) window.opener.document.title = "pwned";`;
const SVG = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload='${SCRIPT}'>` +
    `<script>${SCRIPT}</script><rect width="64" height="64" fill="red"/></svg>`,
);
const HTML = Buffer.from(
  `<!doctype html><html><body onload='${SCRIPT}'><script>${SCRIPT}</script></body></html>`,
);
/** The only types the app may give an object URL of received bytes. */
const SAFE_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "audio/webm",
  "audio/ogg",
  "audio/mp4",
  "application/octet-stream",
];

type Made = { url: string; type: string };

/** Every object URL the page has made so far, with its Blob's type (recorded by an init script). */
const objectUrls = (page: Page): Promise<Made[]> =>
  page.evaluate(() => (window as unknown as { madeUrls: Made[] }).madeUrls);

/** Whether anything ran script in the app's origin: the mark in its storage, or its title changed. */
async function assertNothingRan(page: Page): Promise<void> {
  assert.equal(
    await page.evaluate((mark) => localStorage.getItem(mark), MARK),
    null,
    "no script left its mark",
  );
  assert.doesNotMatch(await page.title(), /pwned/);
}

describe("files and stickers someone else made, in Chromium", () => {
  const suite = useWebSuite();
  let bob: TestDevice;
  let mallory: SoriClient;
  let chat: ChatSummary;

  before(async () => {
    bob = await suite.open({ locale: "en-US" });
    await bob.page.context().addInitScript(() => {
      const w = window as unknown as { madeUrls: Made[] };
      w.madeUrls = [];
      const make = URL.createObjectURL.bind(URL);
      URL.createObjectURL = (obj: Blob | MediaSource): string => {
        const url = make(obj);
        w.madeUrls.push({ url, type: obj instanceof Blob ? obj.type : "media-source" });
        return url;
      };
    });
    await bob.page.reload();
    await signUp(bob.page, "bob", { waitForChatList: true });
    mallory = await newUser(suite.url, "mallory");
    chat = await mallory.startDirectChat("bob");
    await mallory.sendText(chat.id, "some files for you");
    await bob.page.locator('[data-testid="chat-item"][data-chat-name="mallory"]').click();
    await byTestId(bob.page, "message-list").getByText("some files for you").waitFor();
  });

  after(async () => {
    await mallory?.close();
  });

  it(
    "an SVG sent as a photo is never drawn, and it and an HTML file download under their names",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const b = bob.page;
      // A real PNG thumbnail makes it look like a photo; the picture itself is the SVG.
      await mallory.sendFile(chat.id, {
        name: "cat.svg",
        mime: "image/svg+xml",
        bytes: SVG,
        thumbnail: solidPng(16, 16, [200, 120, 40]),
        width: 64,
        height: 64,
      });
      // An SVG thumbnail is not shown at all: that one arrives as a plain file.
      await mallory.sendFile(chat.id, {
        name: "thumb.svg",
        mime: "image/svg+xml",
        bytes: SVG,
        thumbnail: SVG,
      });
      await mallory.sendFile(chat.id, { name: "page.html", mime: "text/html", bytes: HTML });

      await byTestId(b, "file-card").filter({ hasText: "page.html" }).waitFor();
      assert.equal(
        await byTestId(b, "image-thumbnail").count(),
        1,
        "only the one with a PNG thumbnail looks like a photo",
      );
      await byTestId(b, "file-card").filter({ hasText: "thumb.svg" }).waitFor();

      await byTestId(b, "image-thumbnail").click();
      const full = byTestId(b, "image-full");
      await full.waitFor();
      await b.waitForFunction(
        () => (document.querySelector('[data-testid="image-full"]') as HTMLImageElement).complete,
      );
      assert.equal(
        await full.evaluate((img: HTMLImageElement) => img.naturalWidth),
        0,
        "the SVG is not drawn as an image",
      );
      const [saved] = await Promise.all([
        b.waitForEvent("download"),
        byTestId(b, "image-viewer").getByRole("button", { name: "Save" }).click(),
      ]);
      assert.equal(saved.suggestedFilename(), "cat.svg");
      assert.ok(readFileSync(await saved.path()).equals(SVG), "the file itself is unchanged");
      await b.keyboard.press("Escape");

      const [html] = await Promise.all([
        b.waitForEvent("download"),
        byTestId(b, "file-card").filter({ hasText: "page.html" }).getByTestId("file-download").click(),
      ]);
      assert.equal(html.suggestedFilename(), "page.html");
      await assertNothingRan(b);
      assertNoErrors(bob);
    },
  );

  it(
    "a sticker pack image that is really SVG shows as a sticker the app cannot show",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const b = bob.page;
      const pack = await mallory.createStickerPack("Totally cats", [{ bytes: SVG, mime: "image/svg+xml" }]);
      await mallory.shareStickerPack(chat.id, pack.id);
      await mallory.sendSticker(chat.id, { pack: pack.id, id: "s1" });

      const inChat = byTestId(b, "message-list").locator(
        `[data-testid="sticker"][data-sticker="${pack.id}/s1"]`,
      );
      await inChat.waitFor();
      assert.equal(await inChat.evaluate((el) => el.tagName), "SPAN", "a placeholder, not an <img>");
      assert.match(await inChat.innerText(), /can't show/);

      // Added to Bob's stickers, the pack's picker shows the same placeholder.
      const card = byTestId(b, "sticker-pack-card");
      await card.getByTestId("sticker-pack-add").click();
      await card.getByTestId("sticker-pack-have").waitFor();
      await byTestId(b, "emoticon-button").click();
      await b.locator('[data-testid="picker-tab-pack"][data-pack-name="Totally cats"]').click();
      const option = byTestId(b, "pack-sticker-option").first();
      await option.getByTestId("sticker").waitFor();
      assert.equal(await option.locator("img").count(), 0);
      await b.keyboard.press("Escape");
      await assertNothingRan(b);
      assertNoErrors(bob);
    },
  );

  it(
    "opened as pages of their own, the object URLs the app made run nothing in its origin",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const b = bob.page;
      const made = await objectUrls(b);
      assert.ok(made.length >= 2, `the app made object URLs for the files: ${JSON.stringify(made)}`);
      // As "open image in new tab" would: each URL in a tab of its own. An opaque one becomes a download.
      for (const m of made) {
        const tab = await b.context().newPage();
        await tab.goto(m.url).catch(() => undefined);
        await tab.waitForTimeout(200);
        assert.doesNotMatch(await tab.title(), /pwned/);
        await tab.close();
      }
      await assertNothingRan(b);
      for (const m of made) assert.ok(SAFE_TYPES.includes(m.type), `${m.url} is typed ${m.type || "(none)"}`);
      assertNoErrors(bob);
    },
  );
});
