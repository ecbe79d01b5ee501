// Files, photos and voice messages in the web app, two people in real Chromium: a multi-chunk file
// uploads with a progress bar and downloads byte for byte identical; a photo arrives as a thumbnail
// made in the sender's browser and opens full size; a voice message recorded with MediaRecorder (the
// harness gives Chromium a fake microphone) arrives and plays.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import { assertNoErrors, screenshot, type TestDevice } from "./harness.ts";
import { byTestId, signUpAliceAndBob, startChatAndSend } from "./people.ts";
import { rgbPng } from "./png.ts";
import { useWebSuite } from "./web-suite.ts";

const TEST_TIMEOUT_MS = 45_000;
/** Five 1 MiB upload chunks and a bit: progress has to move in steps. */
const FILE_BYTES = 5 * 1024 * 1024 + 12_345;

const lastMessage = (page: Page): Locator => byTestId(page, "message-list").getByTestId("message").last();

/** A gradient PNG (a gradient defeats tiny JPEGs). */
function gradientPng(width: number, height: number): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([x % 256, y % 256, (x + y) % 256], 1 + x * 3);
    rows.push(row);
  }
  return rgbPng(width, height, rows);
}

/**
 * Records every progress bar state the page shows (direction, value, max), so a fast transfer's
 * brief progress cannot slip between polls.
 */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { progress: { direction: string; value: number; max: number }[] };
    w.progress = [];
    const record = (): void => {
      for (const el of document.querySelectorAll('[data-testid="transfer-progress"]')) {
        const bar = el.querySelector("progress");
        if (bar)
          w.progress.push({
            direction: el.getAttribute("data-direction") ?? "",
            value: bar.value,
            max: bar.max,
          });
      }
    };
    new MutationObserver(record).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["value"],
    });
  });
}

async function progressSeen(page: Page): Promise<{ direction: string; value: number; max: number }[]> {
  return page.evaluate(
    () => (window as unknown as { progress: { direction: string; value: number; max: number }[] }).progress,
  );
}

describe("files, photos and voice messages in Chromium", () => {
  const suite = useWebSuite();
  let alice: TestDevice;
  let bob: TestDevice;

  before(async () => {
    ({ alice, bob } = await signUpAliceAndBob(suite));
    await startChatAndSend(alice.page, "bob", "files coming", bob.page, "alice");
  });

  it("a file uploads with progress and downloads byte-identical", { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = alice.page;
    const b = bob.page;
    const original = randomBytes(FILE_BYTES);
    await watchProgress(a);
    await watchProgress(b);
    await byTestId(a, "file-input").setInputFiles({
      name: "report.bin",
      mimeType: "application/octet-stream",
      buffer: original,
    });
    const card = byTestId(b, "file-card").filter({ hasText: "report.bin" });
    await card.waitFor();
    assert.match(await card.innerText(), /5\.\d MB/);
    await lastMessage(a).and(a.locator('[data-status="delivered"]')).waitFor();

    // The upload showed progress part-way, in the upload direction.
    const up = (await progressSeen(a)).filter((p) => p.direction === "up");
    assert.ok(
      up.some((p) => p.value > 0 && p.value < p.max),
      `upload progress part-way: ${JSON.stringify(up.slice(0, 5))}`,
    );

    const [download] = await Promise.all([
      b.waitForEvent("download"),
      card.getByTestId("file-download").click(),
    ]);
    assert.equal(download.suggestedFilename(), "report.bin");
    const saved = readFileSync(await download.path());
    assert.equal(saved.length, original.length);
    assert.ok(saved.equals(original), "the downloaded file is byte-identical");
    const down = (await progressSeen(b)).filter((p) => p.direction === "down");
    assert.ok(down.length > 0, "the download showed progress");

    // A file dropped on the chat is sent too.
    const dropped = await a.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped in"], "notes.txt", { type: "text/plain" }));
      return dt;
    });
    await byTestId(a, "message-list").dispatchEvent("dragover", { dataTransfer: dropped });
    await byTestId(a, "message-list").dispatchEvent("drop", { dataTransfer: dropped });
    await byTestId(b, "file-card").filter({ hasText: "notes.txt" }).waitFor();
    assertNoErrors(alice);
    assertNoErrors(bob);
  });

  it(
    "a photo arrives as a thumbnail made in the browser and opens full size",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await byTestId(a, "file-input").setInputFiles({
        name: "mountain.png",
        mimeType: "image/png",
        buffer: gradientPng(900, 600),
      });
      const thumb = byTestId(b, "image-thumbnail").last().locator("img");
      await thumb.waitFor();
      const size = await thumb.evaluate((img: HTMLImageElement) => ({
        w: img.naturalWidth,
        h: img.naturalHeight,
      }));
      assert.ok(size.w > 0 && size.w <= 320, `a thumbnail, not the full image: ${size.w} px wide`);
      assert.equal(Math.round((size.w / size.h) * 10), 15, "the thumbnail keeps the 3:2 shape");
      await screenshot(b, "web-files");
      await byTestId(b, "image-thumbnail").last().click();
      const full = byTestId(b, "image-full");
      await full.waitFor();
      await b.waitForFunction(
        () =>
          (document.querySelector('[data-testid="image-full"]') as HTMLImageElement | null)?.naturalWidth ===
          900,
      );
      await b.keyboard.press("Escape");
      await byTestId(b, "image-viewer").waitFor({ state: "hidden" });
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );

  it(
    "a voice message is recorded in the browser and plays on the other side",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const a = alice.page;
      const b = bob.page;
      await byTestId(a, "voice-record").click();
      await byTestId(a, "voice-recorder").waitFor();
      await a.getByText("Recording 0:01").waitFor();
      await byTestId(a, "voice-send").click();
      const voice = byTestId(b, "voice-message").last();
      await voice.waitFor();
      await voice.getByTestId("voice-play").click();
      // The decrypted recording is real audio the browser decodes (about a second long) and plays.
      const player = voice.locator('[data-testid="voice-player"][data-state="playing"]');
      await player.waitFor();
      const seconds = Number(await player.getAttribute("data-duration"));
      assert.ok(seconds > 0.5 && seconds < 10, `the recording lasts ${seconds} s`);
      assertNoErrors(alice);
      assertNoErrors(bob);
    },
  );
});
