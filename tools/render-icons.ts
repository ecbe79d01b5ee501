// Renders the web app's icons (apps/web/public/icons/*.svg) to the PNGs the manifest lists, with the
// system's Chromium: install prompts and home screens want PNGs. Run after changing an SVG:
// `npx node tools/render-icons.ts`; the PNGs are committed, so building needs no browser.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ICONS = fileURLToPath(new URL("../apps/web/public/icons", import.meta.url));
const OUTPUTS: { svg: string; png: string; size: number }[] = [
  { svg: "icon.svg", png: "icon-192.png", size: 192 },
  { svg: "icon.svg", png: "icon-512.png", size: 512 },
  { svg: "icon-maskable.svg", png: "icon-maskable-512.png", size: 512 },
  { svg: "icon-maskable.svg", png: "apple-touch-icon.png", size: 180 },
];

const browser = await chromium.launch({
  executablePath: process.env.SORI_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  for (const { svg, png, size } of OUTPUTS) {
    await page.setViewportSize({ width: size, height: size });
    const source = readFileSync(join(ICONS, svg), "utf8").replace(
      "<svg ",
      `<svg width="${size}" height="${size}" `,
    );
    await page.setContent(`<body style="margin:0;background:transparent">${source}</body>`);
    writeFileSync(join(ICONS, png), await page.screenshot({ omitBackground: true, type: "png" }));
  }
} finally {
  await browser.close();
}
