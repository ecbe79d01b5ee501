import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const root = join(import.meta.dirname, "..", "..", "..");

describe("the server's node flags", () => {
  it("are the same for `npm start` and `sori server`", () => {
    const start = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } }
    ).scripts.start;
    const fromStart = start.match(/--max-semi-space-size=\d+/)?.[0];
    assert.ok(fromStart, `npm start has no young-generation cap: ${start}`);
    const bin = readFileSync(join(root, "apps", "cli", "bin", "sori.js"), "utf8");
    assert.deepEqual(bin.match(/--max-semi-space-size=\d+/g), [fromStart]);
  });
});
