import assert from "node:assert/strict";
import { resolveObjectURL } from "node:buffer";
import { describe, it } from "node:test";
import { blobUrlOf, imageBlobUrl, isImageType, OPAQUE_TYPE, sniffMediaType } from "./media-type.ts";

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));

const PNG = bytes([0x89], "PNG\r\n\x1a\n", [0, 0, 0, 13], "IHDR");
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], "JFIF");
const GIF = bytes("GIF89a", [1, 0, 1, 0]);
const WEBP = bytes("RIFF", [36, 0, 0, 0], "WEBPVP8 ");
const WEBM = bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]);
const OGG = bytes("OggS", [0, 2, 0, 0]);
const MP4 = bytes([0, 0, 0, 0x20], "ftypM4A ", [0, 0, 0, 0]);
const SVG = bytes(`<svg xmlns="http://www.w3.org/2000/svg"><script>document.title = "pwned"</script></svg>`);
const HTML = bytes("<!doctype html><script>alert(1)</script>");

/** The type of the Blob behind an object URL made in Node. */
const typeOf = (url: string): string | undefined => resolveObjectURL(url)?.type;

describe("sniffMediaType", () => {
  it("knows the raster images and voice containers by their signatures", () => {
    assert.equal(sniffMediaType(PNG), "image/png");
    assert.equal(sniffMediaType(JPEG), "image/jpeg");
    assert.equal(sniffMediaType(GIF), "image/gif");
    assert.equal(sniffMediaType(bytes("GIF87a")), "image/gif");
    assert.equal(sniffMediaType(WEBP), "image/webp");
    assert.equal(sniffMediaType(WEBM), "audio/webm");
    assert.equal(sniffMediaType(OGG), "audio/ogg");
    assert.equal(sniffMediaType(MP4), "audio/mp4");
  });

  it("knows nothing else: SVG, HTML, other RIFF files, truncated signatures, nothing at all", () => {
    for (const [what, b] of [
      ["svg", SVG],
      ["html", HTML],
      ["svg after a PNG-like byte", bytes([0x89], "<svg/>")],
      ["wav (RIFF, not WEBP)", bytes("RIFF", [36, 0, 0, 0], "WAVEfmt ")],
      ["half a PNG signature", PNG.slice(0, 4)],
      ["half a WebP header", WEBP.slice(0, 10)],
      ["empty", new Uint8Array(0)],
    ] as const)
      assert.equal(sniffMediaType(b), null, what);
  });

  it("isImageType accepts exactly the raster images", () => {
    assert.deepEqual(
      [PNG, JPEG, GIF, WEBP, WEBM, OGG, MP4, SVG].map((b) => isImageType(sniffMediaType(b))),
      [true, true, true, true, false, false, false, false],
    );
    assert.equal(isImageType("image/svg+xml"), false);
  });
});

describe("object URLs of received bytes", () => {
  it("are typed by what the bytes are, and everything else is opaque", () => {
    assert.equal(typeOf(blobUrlOf(PNG)), "image/png");
    assert.equal(typeOf(blobUrlOf(OGG)), "audio/ogg");
    assert.equal(typeOf(blobUrlOf(SVG)), OPAQUE_TYPE);
    assert.equal(typeOf(blobUrlOf(HTML)), OPAQUE_TYPE);
  });

  it("for an <img>, exist only for raster images", () => {
    const webp = imageBlobUrl(WEBP);
    assert.ok(webp);
    assert.equal(typeOf(webp), "image/webp");
    assert.equal(imageBlobUrl(SVG), null);
    assert.equal(imageBlobUrl(WEBM), null);
  });
});
