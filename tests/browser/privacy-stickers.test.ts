// Sticker packs in the web app: one person makes a pack from images in the emoticon picker and
// shares it in the chat; the other sees the shared pack, adds it, and sends one of its stickers,
// which both pages show as an image.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import type { Locator, Page } from "playwright-core";
import { assertNoErrors, openDevice, screenshot, startWebServer, type TestDevice } from "./harness.ts";

const PASSWORD = "correct horse battery";

const byTestId = (page: Page, id: string): Locator => page.getByTestId(id);

async function signUp(page: Page, username: string): Promise<void> {
  await byTestId(page, "auth-mode-register").click();
  await byTestId(page, "auth-username").fill(username);
  await byTestId(page, "auth-password").fill(PASSWORD);
  await byTestId(page, "auth-password-confirm").fill(PASSWORD);
  await byTestId(page, "auth-submit").click();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}

/** A solid-colour PNG, built by hand so the test needs no image files. */
function solidPng(size: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3).map((_, i) => rgb[i % 3] ?? 0)]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(Array.from({ length: size }, () => row)))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("sticker packs in Chromium", () => {
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
    "a pack made from images is shared, added by the other, and its sticker sent",
    { timeout: 55_000 },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await byTestId(a, "chat-search").fill("bob");
      await byTestId(a, "search-person").getByRole("button").click();
      await byTestId(a, "composer").fill("look what I made");
      await byTestId(a, "composer").press("Enter");
      await b.locator('[data-testid="chat-item"][data-chat-name="alice"]').click();
      await byTestId(b, "message-list").getByText("look what I made").waitFor();

      // Alice makes a pack of two images from the emoticon picker and shares it here.
      await byTestId(a, "emoticon-button").click();
      await byTestId(a, "picker-create-pack").click();
      await byTestId(a, "pack-name").fill("Colours");
      await byTestId(a, "pack-files").setInputFiles([
        { name: "red.png", mimeType: "image/png", buffer: solidPng(128, [230, 40, 40]) },
        { name: "blue.png", mimeType: "image/png", buffer: solidPng(128, [40, 80, 230]) },
      ]);
      await byTestId(a, "sticker-pack-dialog").getByText("2 stickers").waitFor();
      await byTestId(a, "pack-create").click();
      await byTestId(a, "sticker-pack-dialog").waitFor({ state: "hidden" });

      // Bob sees the shared pack and adds it.
      const card = byTestId(b, "sticker-pack-card");
      await card.waitFor();
      assert.match(await card.innerText(), /Colours[\s\S]*2 stickers/);
      await card.getByTestId("sticker-pack-add").click();
      await card.getByTestId("sticker-pack-have").waitFor();

      // Bob sends its second sticker from his picker; both pages show the image.
      await byTestId(b, "emoticon-button").click();
      await b.locator('[data-testid="picker-tab-pack"][data-pack-name="Colours"]').click();
      await byTestId(b, "pack-sticker-option").nth(1).locator("img").waitFor();
      await byTestId(b, "pack-sticker-option").nth(1).click();
      for (const page of [a, b]) {
        const sticker = byTestId(page, "message-list").locator(
          '[data-kind="sticker"] img[data-testid="sticker"]',
        );
        await sticker.waitFor();
        // The blue one, decoded from the encrypted image that travelled.
        const rgb = await sticker.evaluate((img: HTMLImageElement) => {
          const c = document.createElement("canvas");
          c.width = c.height = 4;
          const ctx = c.getContext("2d");
          ctx?.drawImage(img, 0, 0, 4, 4);
          return [...(ctx?.getImageData(1, 1, 1, 1).data ?? [])].slice(0, 3);
        });
        assert.deepEqual(rgb, [40, 80, 230]);
      }
      await screenshot(a, "privacy-sticker-pack");
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );
});
