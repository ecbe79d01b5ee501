import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contentDisposition, parseRange, safeMime, tokenOf } from "./file-server.ts";

describe("the file server's pure parts", () => {
  it("writes a Content-Disposition that no file name can break out of", () => {
    assert.equal(
      contentDisposition("보고서.pdf", false),
      "attachment; filename=\"___.pdf\"; filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf",
    );
    for (const name of ['a"\r\nSet-Cookie: x=1', "a\\b;c%d'e(f)", "\u202etxt.exe", "\0\t\n"]) {
      const value = contentDisposition(name, true);
      assert.ok(!/[\r\n\0\t]/.test(value), value);
      // One quoted string: no quote inside the fallback, and the RFC 8187 value is attr-chars only.
      const [, fallback, encoded] = /^inline; filename="([^"]*)"; filename\*=UTF-8''(.*)$/.exec(value)!;
      assert.ok(!/["\\]/.test(fallback!), fallback);
      assert.match(encoded!, /^[A-Za-z0-9!#$&+.^_`|~%-]*$/);
      assert.equal(decodeURIComponent(encoded!), name);
    }
    assert.equal(contentDisposition("", false), "attachment; filename=\"file\"; filename*=UTF-8''");
  });

  it("serves only well-formed MIME types, without parameters", () => {
    assert.equal(safeMime("image/JPEG"), "image/jpeg");
    assert.equal(safeMime("text/plain; charset=utf-8"), "text/plain");
    assert.equal(safeMime("text/html\r\nSet-Cookie: x"), "application/octet-stream");
    assert.equal(safeMime("nonsense"), "application/octet-stream");
    assert.equal(safeMime(""), "application/octet-stream");
  });

  it("reads one byte range; several, malformed or reversed ones mean the whole file", () => {
    assert.deepEqual(parseRange("bytes=0-99", 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange("bytes=900-", 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange("bytes=-100", 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange("bytes=990-5000", 1000), { start: 990, end: 999 });
    assert.equal(parseRange("bytes=1000-", 1000), "unsatisfiable");
    assert.equal(parseRange("bytes=-0", 1000), "unsatisfiable");
    assert.equal(parseRange("bytes=0-1,5-6", 1000), undefined);
    assert.equal(parseRange("bytes=9-3", 1000), undefined);
    assert.equal(parseRange("items=0-1", 1000), undefined);
    assert.equal(parseRange(undefined, 1000), undefined);
  });

  it("finds the token after the public URL's path, whether a proxy kept the path or stripped it", () => {
    const t = "A".repeat(43);
    assert.equal(tokenOf(`/files/${t}/photo.jpg`, "/files"), t);
    assert.equal(tokenOf(`/${t}/photo.jpg`, "/files"), t);
    assert.equal(tokenOf(`/${t}`, "/"), t);
    assert.equal(tokenOf(`/files/${t}?x=1`, "/files/"), t);
    assert.equal(tokenOf("/files", "/files"), "");
  });
});
