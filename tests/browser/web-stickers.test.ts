// Sticker packs in the web app: one person makes a pack from images in the emoticon picker and
// shares it in the chat; the other sees the shared pack, adds it, and sends one of its stickers,
// which both pages show as an image.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { assertNoErrors, screenshot, type TestDevice } from "./harness.ts";
import { byTestId, signUpAliceAndBob, startChatAndSend } from "./people.ts";
import { solidPng } from "./png.ts";
import { useWebSuite } from "./web-suite.ts";

describe("sticker packs in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let bob: TestDevice;

  before(async () => {
    ({ alice, bob } = await signUpAliceAndBob(suite));
  });

  it(
    "a pack made from images is shared, added by the other, and its sticker sent",
    { timeout: 55_000 },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await startChatAndSend(a, "bob", "look what I made", b, "alice");

      // Alice makes a pack of two images from the emoticon picker and shares it here.
      await byTestId(a, "emoticon-button").click();
      await byTestId(a, "picker-create-pack").click();
      await byTestId(a, "pack-name").fill("Colours");
      await byTestId(a, "pack-files").setInputFiles([
        { name: "red.png", mimeType: "image/png", buffer: solidPng(128, 128, [230, 40, 40]) },
        { name: "blue.png", mimeType: "image/png", buffer: solidPng(128, 128, [40, 80, 230]) },
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
      await screenshot(a, "web-sticker-pack");
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );
});
