import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.includes(".node.") && !f.startsWith("test-"),
    )
    .map((f) => join(dir, f));
}

describe("code that must also run in browsers", () => {
  it("has no node: imports (Node-only files are named *.node.ts)", () => {
    for (const pkg of ["packages/protocol/src", "packages/crypto/src", "packages/sdk/src"]) {
      for (const file of sources(pkg)) {
        const text = readFileSync(file, "utf8");
        assert.doesNotMatch(text, /from "node:|require\("node:|import\("node:/, file);
      }
    }
  });

  it("only packages/crypto imports ts-mls", () => {
    for (const pkg of ["packages/protocol/src", "packages/sdk/src", "apps/server/src", "apps/cli/src"]) {
      for (const file of sources(pkg)) assert.doesNotMatch(readFileSync(file, "utf8"), /from "ts-mls/, file);
    }
  });
});
