import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { thumbnailUrl } from "./thumbnail.ts";

const base64 = (text: string | number[]): string =>
  Buffer.from(typeof text === "string" ? Buffer.from(text, "latin1") : Uint8Array.from(text)).toString(
    "base64",
  );

describe("thumbnailUrl", () => {
  it("labels a thumbnail with the raster type its bytes are", () => {
    const jpeg = base64([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0]);
    assert.equal(thumbnailUrl(jpeg), `data:image/jpeg;base64,${jpeg}`);
    const png = base64("\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    assert.equal(thumbnailUrl(png), `data:image/png;base64,${png}`);
  });

  it("gives no URL for anything else the sender put there", () => {
    assert.equal(
      thumbnailUrl(base64(`<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>`)),
      null,
    );
    assert.equal(thumbnailUrl("not base64 at all!"), null);
    assert.equal(thumbnailUrl(""), null);
  });
});
